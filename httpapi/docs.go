package httpapi

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// docsPage renders the OpenAPI document as one self-contained HTML page: no
// script, font or style is loaded from anywhere, so it works offline.
var docsPage = template.Must(template.New("docs").Funcs(template.FuncMap{
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"lower": strings.ToLower,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px/1.4 ui-monospace,monospace;background:#f5f5f5;border-radius:4px}
pre{padding:.6rem;overflow:auto}code{padding:0 .2rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{font-weight:700;display:inline-block;min-width:4.5rem}
.get{color:#0a7}.post{color:#06c}.delete{color:#c33}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left;vertical-align:top}
details summary{cursor:pointer}
</style></head><body>
<h1>{{.Title}} API</h1>
<p>{{.Description}}</p>
<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.</p>
{{range .Ops}}<div class="op" id="{{.ID}}">
<h3><span class="m {{lower .Method}}">{{.Method}}</span> <code>{{.Path}}</code></h3>
<p>{{.Summary}}. {{.Description}}</p>
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{if .Schema}}{{.Schema.Type}}{{end}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<details><summary>request body</summary><pre>{{json .Body}}</pre></details>{{end}}
{{if .Response}}<details><summary>response</summary><pre>{{json .Response}}</pre></details>{{end}}
{{if .Errors}}<details><summary>errors (problem details)</summary><table>
{{range .Errors}}<tr><td>{{.Status}}</td><td>{{.Description}}</td></tr>{{end}}</table></details>{{end}}
</div>{{end}}
</body></html>`))

type docsOp struct {
	ID, Method, Path, Summary, Description string
	Params                                 []*huma.Param
	Body, Response                         *huma.Schema
	Errors                                 []docsError
}

// docsError is an error status an operation may answer.
type docsError struct{ Status, Description string }

// docsHandler serves the offline API docs.
func (s *Server) docsHandler(w http.ResponseWriter, r *http.Request) {
	oa := s.api.OpenAPI()
	reg := oa.Components.Schemas
	resolve := func(sc *huma.Schema) *huma.Schema {
		if sc != nil && sc.Ref != "" {
			return reg.SchemaFromRef(sc.Ref)
		}
		return sc
	}
	var ops []docsOp
	for path, item := range oa.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Delete} {
			if op == nil {
				continue
			}
			d := docsOp{ID: op.OperationID, Method: op.Method, Path: path, Summary: op.Summary, Description: op.Description, Params: op.Parameters}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil {
					d.Body = resolve(mt.Schema)
				}
			}
			for code, resp := range op.Responses {
				if strings.HasPrefix(code, "2") && resp.Content != nil {
					if mt := resp.Content["application/json"]; mt != nil {
						d.Response = resolve(mt.Schema)
					}
				}
				if code[0] == '4' || code[0] == '5' {
					d.Errors = append(d.Errors, docsError{Status: code, Description: resp.Description})
				}
			}
			slices.SortFunc(d.Errors, func(a, b docsError) int { return strings.Compare(a.Status, b.Status) })
			ops = append(ops, d)
		}
	}
	slices.SortFunc(ops, func(a, b docsOp) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_ = docsPage.Execute(w, map[string]any{"Title": oa.Info.Title, "Description": oa.Info.Description, "Ops": ops})
}
