package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

// Every action asks for a reason, calls the library once with the
// signed-in key as actor, records the outcome in the audit log, and answers
// with the customer's live part (balances, actions, grants, ledger): htmx
// swaps it in place.

// maxReason bounds a reason, as the ledger bounds descriptions.
const maxReason = 500

// errForm is a form the user must fix; its text says how.
type errForm struct{ msg string }

func (e *errForm) Error() string { return e.msg }

func formErr(format string, args ...any) error { return &errForm{fmt.Sprintf(format, args...)} }

// reasonOf returns the form's required reason.
func reasonOf(r *http.Request) (string, error) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch {
	case reason == "":
		return "", formErr("Give a reason: it is recorded in the audit log and the ledger.")
	case utf8.RuneCountInString(reason) > maxReason:
		return "", formErr("The reason is longer than %d characters.", maxReason)
	}
	return reason, nil
}

// amountOf parses the form's amount ("100", "12.5 usd_credits").
func (h *Handler) amountOf(r *http.Request, field string, required bool) (*creditkit.Amount, string, error) {
	s := strings.TrimSpace(r.PostFormValue(field))
	if s == "" {
		if required {
			return nil, "", formErr("Give an amount, such as 100.")
		}
		return nil, "", nil
	}
	a, cur, err := h.l.Config().ParseAmountWithUnit(s)
	if err != nil {
		return nil, "", formErr("%s", err.Error())
	}
	if a <= 0 {
		return nil, "", formErr("The amount must be more than 0, got %s.", s)
	}
	return &a, cur, nil
}

// answer shows the customer after an action: the message on success, the
// form again with its error otherwise. Errors the user can fix answer 200
// for htmx, so that it swaps the form with its message; others keep their
// status.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, u *user, customer, form, done string, err error) {
	st := customerState{Flash: done}
	status := http.StatusOK
	if err != nil {
		st = customerState{FormName: form, Form: r.PostForm}
		var fe *errForm
		if errors.As(err, &fe) {
			st.FormError = fe.msg
		} else {
			status, st.FormError = describe(err)
			if status >= 500 {
				h.log.Error("dashboard: action failed", "form", form, "customer", customer, "request_id", requestID(w), "err", err)
			}
			if isHTMX(r) && status < 500 {
				status = http.StatusOK
			}
		}
		if status >= 500 {
			h.fail(w, r, u, status, st.FormError)
			return
		}
	}
	h.showCustomer(w, r, u, customer, status, st)
}

// grantAction gives credits.
func (h *Handler) grantAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	rec := actionRecord{Action: actionGrant, Customer: customer}
	g, err := func() (*creditkit.Grant, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return nil, err
		}
		rec.Reason = reason
		amount, cur, err := h.amountOf(r, "amount", true)
		if err != nil {
			return nil, err
		}
		category := strings.TrimSpace(r.PostFormValue("category"))
		opts := &creditkit.GrantOpts{Reason: category, Currency: cur, Description: reason,
			IdempotencyKey: r.PostFormValue("idem"), Actor: u.actor()}
		if exp := strings.TrimSpace(r.PostFormValue("expires_in")); exp != "" {
			sp, err := creditkit.ParseSpan(exp)
			if err != nil {
				return nil, formErr("Expires in: %s", err.Error())
			}
			opts.SetExpiresIn(sp)
		}
		rec.Details = map[string]any{"amount": *amount, "currency": cur, "category": category}
		return h.l.Grant(r.Context(), customer, *amount, opts)
	}()
	if g != nil {
		rec.Target, rec.ResultID = g.ID, g.ID
	}
	rec.Idem, rec.Err = r.PostFormValue("idem"), err
	h.record(r.Context(), w, u, rec)
	done := ""
	if g != nil {
		done = fmt.Sprintf("Granted %s (grant %s).", h.l.Config().FormatAmount(g.Amount, g.Currency), g.ID)
	}
	h.answer(w, r, u, customer, "grant", done, err)
}

// voidAction voids what is left of a grant, or part of it.
func (h *Handler) voidAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	grantID := strings.TrimSpace(r.PostFormValue("grant"))
	rec := actionRecord{Action: actionVoid, Customer: customer, Target: grantID}
	e, err := func() (*creditkit.Entry, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return nil, err
		}
		rec.Reason = reason
		amount, _, err := h.amountOf(r, "amount", false)
		if err != nil {
			return nil, err
		}
		if !creditkit.IsText(grantID) {
			return nil, formErr("Choose a grant: %q is not a grant id.", grantID)
		}
		g, err := h.l.GetGrant(r.Context(), grantID)
		if err != nil {
			return nil, err
		}
		if g.Customer != customer {
			return nil, formErr("Grant %s is not %s's.", grantID, customer)
		}
		if amount != nil {
			rec.Details = map[string]any{"amount": *amount}
		}
		return h.l.Void(r.Context(), grantID, &creditkit.VoidOpts{Amount: amount, Reason: reason,
			IdempotencyKey: r.PostFormValue("idem"), Actor: u.actor()})
	}()
	if e != nil {
		rec.ResultID = e.ID
	}
	rec.Idem, rec.Err = r.PostFormValue("idem"), err
	h.record(r.Context(), w, u, rec)
	done := ""
	if e != nil {
		done = fmt.Sprintf("Voided %s of grant %s.", h.l.Config().FormatAmount(-e.Amount, e.Currency), grantID)
	}
	h.answer(w, r, u, customer, "void", done, err)
}

// adjustAction adds credits (an adjustment grant) or removes them (a debit
// with the reason "adjustment").
func (h *Handler) adjustAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	rec := actionRecord{Action: actionAdjust, Customer: customer}
	done, err := func() (string, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return "", err
		}
		rec.Reason = reason
		amount, cur, err := h.amountOf(r, "amount", true)
		if err != nil {
			return "", err
		}
		dir := r.PostFormValue("direction")
		rec.Details = map[string]any{"amount": *amount, "currency": cur, "direction": dir}
		idem, cfg := r.PostFormValue("idem"), h.l.Config()
		switch dir {
		case "add":
			g, err := h.l.Grant(r.Context(), customer, *amount, &creditkit.GrantOpts{Reason: "adjustment", Source: creditkit.SourceAdjustment,
				Currency: cur, Description: reason, IdempotencyKey: idem, Actor: u.actor()})
			if err != nil {
				return "", err
			}
			rec.Target, rec.ResultID = g.ID, g.ID
			return fmt.Sprintf("Added %s (grant %s).", cfg.FormatAmount(g.Amount, g.Currency), g.ID), nil
		case "remove":
			e, err := h.l.Debit(r.Context(), customer, *amount, &creditkit.DebitOpts{Reason: "adjustment", Currency: cur,
				Description: reason, IdempotencyKey: idem, Actor: u.actor()})
			if err != nil {
				return "", err
			}
			rec.Target, rec.ResultID = e.ID, e.ID
			return fmt.Sprintf("Removed %s (entry %s).", cfg.FormatAmount(-e.Amount, e.Currency), e.ID), nil
		}
		return "", formErr("Choose whether to add or remove credits.")
	}()
	rec.Idem, rec.Err = r.PostFormValue("idem"), err
	h.record(r.Context(), w, u, rec)
	h.answer(w, r, u, customer, "adjust", done, err)
}

// reverseAction gives back all or part of a charge.
func (h *Handler) reverseAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	entryID := strings.TrimSpace(r.PostFormValue("entry"))
	rec := actionRecord{Action: actionReverse, Customer: customer, Target: entryID}
	e, err := func() (*creditkit.Entry, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return nil, err
		}
		rec.Reason = reason
		amount, _, err := h.amountOf(r, "amount", false)
		if err != nil {
			return nil, err
		}
		// The charge must be this customer's: the page answers with the
		// customer of the path, and a reversal of another's charge would
		// move credit the page does not show.
		if !creditkit.IsText(entryID) {
			return nil, formErr("Choose a charge: %q is not an entry id.", entryID)
		}
		var charge *store.Entry
		if err := h.l.Store().View(r.Context(), func(ctx context.Context, tx store.ReadTx) error {
			var err error
			charge, err = tx.Entry(ctx, entryID)
			return err
		}); err != nil {
			return nil, err
		}
		if charge != nil && charge.Customer != customer {
			return nil, formErr("Entry %s is not %s's.", entryID, customer)
		}
		if amount != nil {
			rec.Details = map[string]any{"amount": *amount}
		}
		return h.l.Reverse(r.Context(), entryID, &creditkit.ReverseOpts{Amount: amount, Reason: reason,
			IdempotencyKey: r.PostFormValue("idem"), Actor: u.actor()})
	}()
	if e != nil {
		rec.ResultID = e.ID
	}
	rec.Idem, rec.Err = r.PostFormValue("idem"), err
	h.record(r.Context(), w, u, rec)
	done := ""
	if e != nil {
		done = fmt.Sprintf("Gave back %s of charge %s.", h.l.Config().FormatAmount(e.Amount, e.Currency), entryID)
	}
	h.answer(w, r, u, customer, "reverse", done, err)
}

// planAction subscribes the customer to a plan or changes its plan, as
// PUT /v1/customers/{customer}/subscription does.
func (h *Handler) planAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	plan := strings.TrimSpace(r.PostFormValue("plan"))
	// The target is the subscription, as the API records it; the plan is
	// in the details.
	rec := actionRecord{Action: actionPlan, Customer: customer, Details: map[string]any{"plan": plan}}
	sub, err := func() (*creditkit.Subscription, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return nil, err
		}
		rec.Reason = reason
		p, ok := h.l.Config().Plans[plan]
		if !ok || p == nil {
			return nil, formErr("Choose one of the configured plans.")
		}
		ctx, idem := r.Context(), r.PostFormValue("idem")
		existing, err := h.l.GetSubscription(ctx, customer, &creditkit.SubscriptionOpts{Currency: p.Currency})
		if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound && creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			return nil, err
		}
		if existing != nil {
			rec.Details["from"], rec.Target = existing.Plan, existing.ID
		}
		if existing == nil || existing.Status == creditkit.SubscriptionCanceled || (existing.Plan == plan && existing.ScheduledPlan == "") {
			return h.l.StartSubscription(ctx, customer, plan, &creditkit.SubscribeOpts{IdempotencyKey: idem, Actor: u.actor()})
		}
		return h.l.ChangePlan(ctx, customer, plan, &creditkit.SubscriptionOpts{Currency: p.Currency, IdempotencyKey: idem, Actor: u.actor()})
	}()
	if sub != nil {
		rec.Target = sub.ID
	}
	rec.Idem, rec.Err = r.PostFormValue("idem"), err
	h.record(r.Context(), w, u, rec)
	done := ""
	if sub != nil {
		done = fmt.Sprintf("%s is on plan %s (%s).", customer, sub.Plan, sub.Status)
		if sub.ScheduledPlan != "" {
			done = fmt.Sprintf("%s moves to plan %s at %s.", customer, sub.ScheduledPlan, formatTime(sub.PeriodEnd))
		}
	}
	h.answer(w, r, u, customer, "plan", done, err)
}

// tokenAction mints a customer token for support to read the customer's
// data as the customer's widgets do.
func (h *Handler) tokenAction(w http.ResponseWriter, r *http.Request, u *user) {
	customer := r.PathValue("customer")
	rec := actionRecord{Action: actionToken, Customer: customer}
	tok, err := func() (*mintedToken, error) {
		reason, err := reasonOf(r)
		if err != nil {
			return nil, err
		}
		rec.Reason = reason
		ttl := auth.DefaultTokenTTL
		if s := strings.TrimSpace(r.PostFormValue("ttl")); s != "" {
			d, err := creditkit.ParseDuration(s)
			if err != nil || d <= 0 || d > auth.MaxTokenTTL {
				return nil, formErr("The lifetime must be more than 0 and at most 24h, such as 15m or 1h.")
			}
			ttl = d
		}
		if _, err := h.l.GetCustomer(r.Context(), customer); err != nil {
			return nil, err
		}
		key, err := auth.TokenKey(r.Context(), h.st)
		if err != nil {
			return nil, err
		}
		exp := h.l.Now().Add(ttl).Truncate(time.Second)
		rec.Details = map[string]any{"expires_at": exp.UTC().Format(time.RFC3339)}
		return &mintedToken{Token: auth.SignToken(key, auth.Claims{Customer: customer, Expires: exp.Unix()}), ExpiresAt: exp.UTC()}, nil
	}()
	rec.Err = err
	h.record(r.Context(), w, u, rec)
	if err != nil {
		h.answer(w, r, u, customer, "token", "", err)
		return
	}
	h.showCustomer(w, r, u, customer, http.StatusOK, customerState{Flash: "Minted a customer token; it is shown once, below.", Token: tok})
}

// isFormErr reports whether err is a form the user must fix, which moved
// nothing and is not worth an audit record.
func isFormErr(err error) bool {
	var fe *errForm
	return errors.As(err, &fe)
}
