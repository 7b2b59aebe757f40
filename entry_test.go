package creditkit

import (
	"encoding/json"
	"maps"
	"testing"
)

// An entry stored by an older version (an idempotent result) still decodes:
// its caller's metadata comes out of the nesting, its facts go to Details.
func TestEntryDecodesTheOldShape(t *testing.T) {
	old := `{"id":"ent_1","category":"operation_charge","amount":-3,"balance_after":7,
		"metadata":{"operation":"send_email","cost":3,"params":{"n":1},"metadata":{"job":"j1"}},"allocations":[]}`
	var e Entry
	if err := json.Unmarshal([]byte(old), &e); err != nil {
		t.Fatal(err)
	}
	if e.Operation != "send_email" || !maps.Equal(e.Metadata, map[string]string{"job": "j1"}) || e.Details["cost"] != float64(3) {
		t.Fatalf("decoded %+v", e)
	}
	if _, ok := e.Details["metadata"]; ok {
		t.Fatalf("details keep the nesting: %v", e.Details)
	}
	// The current shape round-trips.
	a := Amount(5)
	cur := Entry{ID: "ent_2", Type: EntryCharge, Operation: "x", AvailableAfter: &a, Details: map[string]any{"cost": 2.0},
		Metadata: map[string]string{"cost": "mine"}}
	data, err := json.Marshal(cur)
	if err != nil {
		t.Fatal(err)
	}
	var back Entry
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != "ent_2" || back.Type != EntryCharge || back.Operation != "x" || *back.AvailableAfter != 5 ||
		back.Metadata["cost"] != "mine" || back.Details["cost"] != 2.0 {
		t.Fatalf("round trip = %+v", back)
	}
}

func TestEntryTypesAreClosed(t *testing.T) {
	want := []EntryType{"grant", "charge", "expiration", "void", "transfer", "reversal", "adjustment", "repayment", "overage_settlement", "refund"}
	got := EntryTypes()
	if len(got) != len(want) {
		t.Fatalf("EntryTypes() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] || !got[i].Valid() {
			t.Fatalf("EntryTypes() = %v, want %v", got, want)
		}
	}
	for _, bad := range []EntryType{"", "Grant", "refunds"} {
		if bad.Valid() {
			t.Errorf("%q is valid", bad)
		}
	}
}
