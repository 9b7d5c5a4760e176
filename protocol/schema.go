package protocol

import "github.com/octrun/octrun/protocol/types"

// ToolSchema returns the JSON Schema of a tool's arguments: an object with
// one property per parameter, required unless optional.
func (p *Protocol) ToolSchema(t *ToolDef) map[string]any {
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
}

// ResponseSchema returns the JSON Schema of a next-message responseType.
func (p *Protocol) ResponseSchema(typeName string) map[string]any {
	return p.Types.Schema(types.Expr{Name: typeName})
}
