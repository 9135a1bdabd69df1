package samtemplate

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
)

func parseTestdata(t *testing.T, values map[string]string) *Template {
	t.Helper()
	data, err := os.ReadFile("testdata/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ParseWithParameters(data, values)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestGlobalsMergeAsSAMMergesThem(t *testing.T) {
	tpl := parseTestdata(t, nil)
	plain, _ := tpl.Function("Plain")
	special, _ := tpl.Function("Special")

	// Maps merge, the function's own keys win; scalars are overridden.
	if got, want := special.Environment(), map[string]string{"TABLE": "!Ref Table", "LIFETIME": "3600", "LEVEL": "debug", "OWN": "yes"}; !maps.Equal(got, want) {
		t.Errorf("Special's environment %v, want %v", got, want)
	}
	if *special.Properties.Timeout != 20 || *plain.Properties.Timeout != 10 {
		t.Errorf("Timeout: Special %d, Plain %d; want 20 and the global 10", *special.Properties.Timeout, *plain.Properties.Timeout)
	}
	// Lists add up, Globals first.
	if got := special.Properties.Layers; !slices.Equal(got, []string{"global-layer", "own-layer"}) {
		t.Errorf("Special's layers %v", got)
	}
	if *plain.Properties.Runtime != "provided.al2023" || !slices.Equal(plain.Properties.Architectures, []string{"arm64"}) {
		t.Error("Plain did not get the global runtime and architecture")
	}
	if got := tpl.GlobalEnvironment; got["LIFETIME"] != "3600" || got["TABLE"] != Ref("Table") {
		t.Errorf("GlobalEnvironment %v", got)
	}
}

func TestRoutesMetadataAndStatements(t *testing.T) {
	tpl := parseTestdata(t, nil)
	plain, ok := tpl.Function("Plain")
	if !ok {
		t.Fatal("no function Plain")
	}
	want := []Route{
		{Event: "Any", RestAPI: "Api", Method: "ANY", Path: "/{proxy+}"},
		{Event: "Post", RestAPI: "Api", Method: "POST", Path: "/{version}/token"},
	}
	if !slices.Equal(plain.Routes, want) {
		t.Errorf("routes %v, want %v", plain.Routes, want)
	}
	if plain.GoPackage() != "./functions/plain" || plain.MetadataString("BuildMethod") != "makefile" {
		t.Errorf("metadata %v", plain.Metadata)
	}
	st := plain.Statements()
	if len(st) != 1 || st[0].Effect != "Allow" || !slices.Equal(st[0].Actions, []string{"dynamodb:GetItem"}) ||
		!slices.Equal(st[0].Resources, []string{GetAtt("Table", "Arn")}) {
		t.Errorf("statements %+v", st)
	}
	if special, _ := tpl.Function("Special"); special.Routes != nil || special.Statements() != nil {
		t.Errorf("Special has routes %v, statements %v", special.Routes, special.Statements())
	}
}

func TestGatewayResponsesAndOutputs(t *testing.T) {
	tpl := parseTestdata(t, nil)
	if len(tpl.APIs) != 1 || tpl.APIs[0].Properties.StageName != "Prod" {
		t.Fatalf("APIs %+v", tpl.APIs)
	}
	got := tpl.APIs[0].GatewayResponses["THROTTLED"]
	if got.StatusCode != 429 || got.Headers["Cache-Control"] != "no-cache" ||
		got.Templates["application/json"] != `{"error":{"code":429,"message":"Too Many Requests"}}` {
		t.Errorf("THROTTLED %+v", got)
	}
	if url := tpl.Outputs["Url"].Value; url != "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/" {
		t.Errorf("Fn::Sub not left as written: %v", url)
	}
	var table dynamodb.Table
	if err := tpl.Decode("Table", &table); err != nil || *table.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("Decode Table: %v %+v", err, table)
	}
	if err := tpl.Decode("Plain", &table); err == nil {
		t.Error("decoding a function as a table succeeded")
	}
}

func TestParameterValuesReplaceDefaults(t *testing.T) {
	tpl := parseTestdata(t, map[string]string{"Lifetime": "60"})
	if got := tpl.GlobalEnvironment["LIFETIME"]; got != "60" {
		t.Errorf("LIFETIME %q, want the given 60", got)
	}
}

func TestDynamicGatewayResponseHeadersAreRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dynamic := strings.Replace(string(data), `"'no-cache'"`, "method.request.header.Origin", 1)
	if _, err := Parse([]byte(dynamic)); err == nil || !strings.Contains(err.Error(), "not a static") {
		t.Errorf("a header mapped from the request parsed: %v", err)
	}
}
