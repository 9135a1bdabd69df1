package samtemplate

// mergeGlobals applies a Globals section to a resource's properties by
// SAM's rules (samtranslator's plugins/globals): maps merge key by key,
// recursively; lists are concatenated, Globals first; anything else, and
// any clash of kinds, takes the resource's own value.
func mergeGlobals(global, local map[string]any) map[string]any {
	merged, _ := merge(global, local).(map[string]any)
	if merged == nil {
		merged = map[string]any{}
	}
	return merged
}

func merge(global, local any) any {
	switch g := global.(type) {
	case map[string]any:
		l, ok := local.(map[string]any)
		if !ok {
			return preferLocal(global, local)
		}
		out := make(map[string]any, len(g)+len(l))
		for k, v := range g {
			out[k] = v
		}
		for k, v := range l {
			if gv, both := g[k]; both {
				out[k] = merge(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		l, ok := local.([]any)
		if !ok {
			return preferLocal(global, local)
		}
		return append(append([]any{}, g...), l...)
	}
	return preferLocal(global, local)
}

func preferLocal(global, local any) any {
	if local != nil {
		return local
	}
	return global
}
