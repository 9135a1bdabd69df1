package motoserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mtauth/mtauth/pkg/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// call sends one DynamoDB JSON-protocol request, with a fake SigV4
// Authorization header for region us-east-1, and returns status and body.
func call(t *testing.T, endpoint, op, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading body: %v", op, err)
	}
	return resp.StatusCode, b
}

func listTables(t *testing.T, endpoint string) []string {
	t.Helper()
	status, body := call(t, endpoint, "ListTables", "{}")
	if status != http.StatusOK {
		t.Fatalf("ListTables: status %d, body %s", status, body)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("ListTables: not JSON: %v: %s", err, body)
	}
	raw, ok := out["TableNames"]
	if !ok {
		t.Fatalf("ListTables: no TableNames key in %s", body)
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		t.Fatalf("ListTables: TableNames is not a list of strings: %v: %s", err, body)
	}
	return names
}

func TestListTables(t *testing.T) {
	endpoint := motoserver.Start(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint = %q, want http://127.0.0.1:PORT", endpoint)
	}
	listTables(t, endpoint)
}

func TestStartIsShared(t *testing.T) {
	if a, b := motoserver.Start(t), motoserver.Start(t); a != b {
		t.Fatalf("second Start returned %q, first %q; want the same server", b, a)
	}
}

func TestReset(t *testing.T) {
	endpoint := motoserver.Reset(t)
	status, body := call(t, endpoint, "CreateTable", `{
		"TableName": "motoserver_reset",
		"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
		"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
		"BillingMode": "PAY_PER_REQUEST"
	}`)
	if status != http.StatusOK {
		t.Fatalf("CreateTable: status %d, body %s", status, body)
	}
	if got := listTables(t, endpoint); len(got) != 1 || got[0] != "motoserver_reset" {
		t.Fatalf("after CreateTable, TableNames = %q, want [motoserver_reset]", got)
	}
	motoserver.Reset(t)
	if got := listTables(t, endpoint); len(got) != 0 {
		t.Fatalf("after Reset, TableNames = %q, want none", got)
	}
}
