package localapi

import (
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mtauth/mtauth/pkg/samtemplate"
)

// FromTemplate builds the gateway a SAM template describes: its one REST
// API's stage and gateway responses, and a route for every Api event of
// every function, each invoking instances that instance returns for the
// function (see Route.Instance). instance may be nil to build a gateway
// for matching only.
func FromTemplate(t *samtemplate.Template, instance func(samtemplate.Function) (func() lambda.Handler, error), log *slog.Logger) (*Gateway, error) {
	if len(t.APIs) != 1 {
		return nil, fmt.Errorf("localapi: the template has %d AWS::Serverless::Api resources, want exactly 1", len(t.APIs))
	}
	api := t.APIs[0]
	g := &Gateway{Stage: api.Properties.StageName, Responses: api.GatewayResponses, Log: log}
	claimed := map[[2]string]string{} // method and resource -> function
	for _, f := range t.Functions {
		var newInstance func() lambda.Handler
		if instance != nil && len(f.Routes) > 0 {
			var err error
			if newInstance, err = instance(f); err != nil {
				return nil, fmt.Errorf("localapi: %s: %w", f.LogicalID, err)
			}
		}
		for _, r := range f.Routes {
			if r.RestAPI != api.LogicalID {
				return nil, fmt.Errorf("localapi: %s event %s: RestApiId %q is not !Ref %s", f.LogicalID, r.Event, r.RestAPI, api.LogicalID)
			}
			key := [2]string{r.Method, r.Path}
			if other, dup := claimed[key]; dup {
				return nil, fmt.Errorf("localapi: %s %s is routed to both %s and %s", r.Method, r.Path, other, f.LogicalID)
			}
			claimed[key] = f.LogicalID
			g.Routes = append(g.Routes, Route{Method: r.Method, Resource: r.Path, Function: f.LogicalID, Instance: newInstance})
		}
	}
	return g, nil
}
