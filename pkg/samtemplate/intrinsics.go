package samtemplate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// How unresolvable references read after parsing: like the YAML short
// forms that wrote them.
const (
	refPrefix    = "!Ref "
	getAttPrefix = "!GetAtt "
)

// Ref returns how a Ref to a resource reads after parsing.
func Ref(logicalID string) string { return refPrefix + logicalID }

// GetAtt returns how a Fn::GetAtt reads after parsing.
func GetAtt(logicalID, attribute string) string {
	return getAttPrefix + logicalID + "." + attribute
}

// ref resolves Ref: a Parameter to its default, as the string
// CloudFormation would substitute; a resource to "!Ref Name"; pseudo
// parameters as goformation does.
func ref(name string, input, template any) any {
	target, ok := input.(string)
	if !ok {
		return nil
	}
	tpl, _ := template.(map[string]any)
	if p, ok := dig(tpl, "Parameters", target).(map[string]any); ok {
		if def, ok := p["Default"]; ok {
			return scalarString(def)
		}
		return nil
	}
	if _, ok := dig(tpl, "Resources", target).(map[string]any); ok {
		return Ref(target)
	}
	return intrinsics.Ref(name, input, template)
}

// getAtt keeps Fn::GetAtt readable: "!GetAtt Table.Arn".
func getAtt(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		id, attr, _ := strings.Cut(v, ".")
		return GetAtt(id, attr)
	case []any:
		if len(v) == 2 {
			return GetAtt(fmt.Sprint(v[0]), fmt.Sprint(v[1]))
		}
	}
	return nil
}

// asWritten leaves Fn::Sub's string as the template wrote it.
func asWritten(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			return v[0]
		}
	}
	return nil
}

// scalarString formats a parameter default the way CloudFormation hands
// parameters over: always as a string, numbers without a fraction.
func scalarString(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
