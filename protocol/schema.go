package protocol

import "github.com/octrun/octrun/protocol/types"

// ToolSchema returns the JSON Schema of a tool's arguments: an object with
// one property per parameter, required unless optional. It is built on
// first use and shared by every caller and run: read it, never change it.
func (p *Protocol) ToolSchema(t *ToolDef) map[string]any {
	return p.cachedSchema("tool:"+t.Name.Value, func() map[string]any {
		fields := make([]types.Field, 0, len(t.Parameters))
		for _, param := range t.Parameters {
			fields = append(fields, types.Field{
				Name:        param.Name.Value,
				Type:        param.Type.Expr,
				Description: param.Description,
				Optional:    param.Optional,
			})
		}
		return p.Types.ObjectSchema(fields)
	})
}

// ResponseSchema returns the JSON Schema of a next-message responseType.
// It is built on first use and shared by every caller and run: read it,
// never change it.
func (p *Protocol) ResponseSchema(typeName string) map[string]any {
	return p.cachedSchema("type:"+typeName, func() map[string]any { return p.Types.Schema(types.Expr{Name: typeName}) })
}

// cachedSchema builds a schema once per key; it is safe for concurrent
// use (two first uses at once may both build it, and one is kept).
func (p *Protocol) cachedSchema(key string, build func() map[string]any) map[string]any {
	if s, ok := p.schemas.Load(key); ok {
		return s.(map[string]any)
	}
	actual, _ := p.schemas.LoadOrStore(key, build())
	return actual.(map[string]any)
}

// Validator returns the compiled validator of a custom type, compiling it
// on first use; it is safe for concurrent use.
func (p *Protocol) Validator(typeName string) (*types.Validator, error) {
	return p.cachedValidator("type:"+typeName, func() map[string]any { return p.ResponseSchema(typeName) })
}

// ToolValidator returns the compiled validator of a tool's arguments,
// compiling it on first use; it is safe for concurrent use.
func (p *Protocol) ToolValidator(t *ToolDef) (*types.Validator, error) {
	return p.cachedValidator("tool:"+t.Name.Value, func() map[string]any { return p.ToolSchema(t) })
}

// cachedValidator compiles a schema once per key.
func (p *Protocol) cachedValidator(key string, schema func() map[string]any) (*types.Validator, error) {
	if v, ok := p.validators.Load(key); ok {
		return v.(*types.Validator), nil
	}
	v, err := types.NewValidator(schema())
	if err != nil {
		return nil, err
	}
	actual, _ := p.validators.LoadOrStore(key, v)
	return actual.(*types.Validator), nil
}
