// Checks requests the rtdw stack sends to Grafana against Grafana's published API, as compiled into
// grafana-openapi-client-go (generated from Grafana's OpenAPI spec): each body must decode strictly
// into the operation's model (no field Grafana does not know) and pass the model's validation
// (required fields, enums, lengths); and the generated client, given the same parameters, must send
// the same method and path. Input on stdin: a JSON array of {op, method, path, body}. Output: one
// JSON result per request; exit status 1 when any request does not match.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/go-openapi/strfmt"
	goapi "github.com/grafana/grafana-openapi-client-go/client"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/client/provisioning"
	"github.com/grafana/grafana-openapi-client-go/models"
)

type request struct {
	Op     string          `json:"op"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

type result struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// What Grafana's generated client sent for the same operation and parameters.
	ClientSent string `json:"clientSent,omitempty"`
}

type validatable interface {
	Validate(strfmt.Registry) error
}

// strict decodes a body into a model, refusing fields the model does not have.
func strict(body json.RawMessage, into validatable) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(into); err != nil {
		return fmt.Errorf("body does not match the model: %w", err)
	}
	if err := into.Validate(strfmt.Default); err != nil {
		return fmt.Errorf("body fails the model's validation: %w", err)
	}
	return nil
}

func param(re string, path string) (string, error) {
	m := regexp.MustCompile(re).FindStringSubmatch(path)
	if m == nil {
		return "", fmt.Errorf("path %s does not have the operation's shape %s", path, re)
	}
	v, err := url.PathUnescape(m[1])
	return v, err
}

func main() {
	var reqs []request
	if err := json.NewDecoder(os.Stdin).Decode(&reqs); err != nil {
		fmt.Fprintln(os.Stderr, "input:", err)
		os.Exit(2)
	}
	var sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = r.Method + " " + r.URL.RequestURI()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot) // the answer does not matter: only the request is compared
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c := goapi.NewHTTPClientWithConfig(strfmt.Default, &goapi.TransportConfig{Host: host, BasePath: "/api", Schemes: []string{"http"}})
	yes := true

	failed := false
	var out []result
	for _, q := range reqs {
		sent = ""
		var err error
		switch q.Op {
		case "createFolder":
			b := &models.CreateFolderCommand{}
			if err = strict(q.Body, b); err == nil {
				_, _ = c.Folders.CreateFolderWithParams(folders.NewCreateFolderParams().WithBody(b))
			}
		case "updateFolder":
			b := &models.UpdateFolderCommand{}
			var uid string
			if err = strict(q.Body, b); err == nil {
				if uid, err = param(`^/api/folders/([^/?]+)$`, q.Path); err == nil {
					_, _ = c.Folders.UpdateFolderWithParams(folders.NewUpdateFolderParams().WithFolderUID(uid).WithBody(b))
				}
			}
		case "deleteFolder":
			var uid string
			if uid, err = param(`^/api/folders/([^/?]+)\?forceDeleteRules=true$`, q.Path); err == nil {
				_, _ = c.Folders.DeleteFolder(folders.NewDeleteFolderParams().WithFolderUID(uid).WithForceDeleteRules(&yes))
			}
		case "putContactPoint":
			b := &models.EmbeddedContactPoint{}
			var uid string
			if err = strict(q.Body, b); err == nil {
				if uid, err = param(`^/api/v1/provisioning/contact-points/([^/?]+)$`, q.Path); err == nil {
					_, _ = c.Provisioning.PutContactpoint(provisioning.NewPutContactpointParams().WithUID(uid).WithBody(b))
				}
			}
		case "postContactPoint":
			b := &models.EmbeddedContactPoint{}
			if err = strict(q.Body, b); err == nil {
				_, _ = c.Provisioning.PostContactpoints(provisioning.NewPostContactpointsParams().WithBody(b))
			}
		case "deleteContactPoint":
			var uid string
			if uid, err = param(`^/api/v1/provisioning/contact-points/([^/?]+)$`, q.Path); err == nil {
				_, _ = c.Provisioning.DeleteContactpoints(uid)
			}
		case "putPolicyTree":
			b := &models.Route{}
			if err = strict(q.Body, b); err == nil {
				_, _ = c.Provisioning.PutPolicyTree(provisioning.NewPutPolicyTreeParams().WithBody(b))
			}
		case "resetPolicyTree":
			_, _ = c.Provisioning.ResetPolicyTree()
		case "putRuleGroup":
			b := &models.AlertRuleGroup{}
			m := regexp.MustCompile(`^/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/?]+)$`).FindStringSubmatch(q.Path)
			if err = strict(q.Body, b); err == nil {
				if m == nil {
					err = fmt.Errorf("path %s is not a rule group's", q.Path)
				} else {
					folder, _ := url.PathUnescape(m[1])
					group, _ := url.PathUnescape(m[2])
					_, _ = c.Provisioning.PutAlertRuleGroup(provisioning.NewPutAlertRuleGroupParams().WithFolderUID(folder).WithGroup(group).WithBody(b))
				}
			}
		case "postDashboard":
			b := &models.SaveDashboardCommand{}
			if err = strict(q.Body, b); err == nil {
				_, _ = c.Dashboards.PostDashboard(b)
			}
		case "deleteDashboard":
			var uid string
			if uid, err = param(`^/api/dashboards/uid/([^/?]+)$`, q.Path); err == nil {
				_, _ = c.Dashboards.DeleteDashboardByUID(uid)
			}
		case "getFolder":
			var uid string
			if uid, err = param(`^/api/folders/([^/?]+)$`, q.Path); err == nil {
				_, _ = c.Folders.GetFolderByUID(uid)
			}
		case "getRuleGroup":
			m := regexp.MustCompile(`^/api/v1/provisioning/folder/([^/]+)/rule-groups/([^/?]+)$`).FindStringSubmatch(q.Path)
			if m == nil {
				err = fmt.Errorf("path %s is not a rule group's", q.Path)
			} else {
				folder, _ := url.PathUnescape(m[1])
				group, _ := url.PathUnescape(m[2])
				_, _ = c.Provisioning.GetAlertRuleGroup(group, folder)
			}
		case "getContactPoints":
			_, _ = c.Provisioning.GetContactpoints(provisioning.NewGetContactpointsParams())
		case "getDashboard":
			var uid string
			if uid, err = param(`^/api/dashboards/uid/([^/?]+)$`, q.Path); err == nil {
				_, _ = c.Dashboards.GetDashboardByUID(uid)
			}
		default:
			err = fmt.Errorf("unknown operation %q", q.Op)
		}
		if err == nil && sent != q.Method+" "+q.Path {
			err = fmt.Errorf("Grafana's client sends %q for this operation, the stack sends %q", sent, q.Method+" "+q.Path)
		}
		r := result{Op: q.Op, Path: q.Path, OK: err == nil, ClientSent: sent}
		if err != nil {
			r.Error = err.Error()
			failed = true
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	if failed {
		os.Exit(1)
	}
}
