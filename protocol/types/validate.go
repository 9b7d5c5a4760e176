package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/octrun/octrun/protocol/diag"
)

// schemaURL is the in-memory address under which a validator's schema is
// compiled. Nothing is ever loaded from it.
const schemaURL = "mem:///octrun/schema.json"

var english = message.NewPrinter(language.English)

// Problem is one way in which a value does not fit its schema.
type Problem struct {
	// Path is a JSON pointer to the offending value ("/items/0/claim");
	// "" is the value itself.
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String formats the problem as "path: message", or just the message for
// the value itself.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Validator checks JSON values against a compiled schema. It is safe for
// concurrent use.
type Validator struct {
	schema *jsonschema.Schema
	// byLocation indexes the compiled schema and its subschemas by
	// location, to explain errors: the properties an object allows, the
	// variants of a union.
	byLocation map[string]*jsonschema.Schema
}

// NewValidator compiles schema, which must be JSON-marshalable (as the
// maps from Schema and ObjectSchema are). Schemas default to JSON Schema
// draft 2020-12. Nothing is loaded over the network or from files: a $ref
// to anything outside the schema is an error.
func NewValidator(schema map[string]any) (*Validator, error) {
	doc, err := jsonDoc(schema)
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, err
	}
	v := &Validator{schema: sch, byLocation: map[string]*jsonschema.Schema{}}
	v.index(sch)
	return v, nil
}

// jsonDoc turns schema into the plain JSON values the compiler expects
// ([]any rather than []string, json.Number for numbers).
func jsonDoc(schema map[string]any) (any, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// noLoader refuses to load anything, so a schema cannot reach the network
// or the file system.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, errors.New("loading schemas is disabled; only the schema itself is available")
}

// index records s and the subschemas that can explain an error.
func (v *Validator) index(s *jsonschema.Schema) {
	if s == nil || v.byLocation[s.Location] != nil {
		return
	}
	v.byLocation[s.Location] = s
	v.index(s.Ref)
	v.index(s.Items2020)
	if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		v.index(ap)
	}
	for _, group := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
		for _, sub := range group {
			v.index(sub)
		}
	}
	for _, p := range s.Properties {
		v.index(p)
	}
}

// Validate returns every problem of value (as decoded by encoding/json:
// map[string]any, []any, float64 or json.Number, string, bool, nil; other
// Go integer types are accepted too), sorted by path. It is empty when the
// value is valid.
func (v *Validator) Validate(value any) []Problem {
	err := v.schema.Validate(value)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []Problem{{Message: err.Error()}}
	}
	var out []Problem
	v.flatten(verr, value, &out)
	slices.SortFunc(out, compareProblems)
	return slices.Compact(out)
}

// flatten adds the leaf causes of e to out, as problems.
func (v *Validator) flatten(e *jsonschema.ValidationError, root any, out *[]Problem) {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf:
		v.union(e, root, out)
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, Problem{pointer(loc, name), fmt.Sprintf("missing required property %q", name)})
		}
	case *kind.AdditionalProperties:
		allowed := slices.Sorted(maps.Keys(v.properties(e.SchemaURL)))
		for _, name := range k.Properties {
			*out = append(*out, Problem{pointer(loc, name), fmt.Sprintf("unknown property %q%s", name, diag.DidYouMean(name, allowed))})
		}
	default:
		if len(e.Causes) == 0 {
			*out = append(*out, Problem{pointer(loc), leafMessage(e.ErrorKind)})
		}
		for _, c := range e.Causes {
			v.flatten(c, root, out)
		}
	}
}

// leafMessage says in plain English what a leaf error means.
func leafMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("expected %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = plain(w)
		}
		return fmt.Sprintf("value %s is not one of %s", display(k.Got), strings.Join(want, ", "))
	case *kind.Const:
		return fmt.Sprintf("expected %s, got %s", display(k.Want), display(k.Got))
	case *kind.InvalidJsonValue:
		return fmt.Sprintf("a Go %T is not a JSON value", k.Value)
	}
	return k.LocalizedString(english)
}

// union explains a value that matches no variant of a union. When the
// variants share a discriminator (a property with a distinct const in
// each), the discriminator picks the variant whose problems are reported;
// otherwise the union is reported as a whole.
func (v *Validator) union(e *jsonschema.ValidationError, root any, out *[]Problem) {
	loc := e.InstanceLocation
	u := v.byLocation[e.SchemaURL]
	disc, consts := discriminatorOf(u)
	obj, isObject := valueAt(root, loc).(map[string]any)
	switch {
	case disc == "" || len(e.Causes) != len(consts):
		*out = append(*out, Problem{pointer(loc), "value does not match any of the allowed types"})
	case !isObject:
		// Every variant is an object: their errors all say so.
		v.flatten(e.Causes[0], root, out)
	default:
		got, present := obj[disc]
		if !present {
			*out = append(*out, Problem{pointer(loc, disc), fmt.Sprintf("missing required property %q", disc)})
			return
		}
		i := slices.IndexFunc(consts, func(c any) bool { return sameJSON(c, got) })
		if i < 0 {
			want := make([]string, len(consts))
			for j, c := range consts {
				want[j] = plain(c)
			}
			*out = append(*out, Problem{pointer(loc, disc), fmt.Sprintf("value %s is not one of %s", display(got), strings.Join(want, ", "))})
			return
		}
		v.flatten(e.Causes[i], root, out)
	}
}

// discriminatorOf finds the property of union u that every variant has
// with a const, the consts being distinct; it returns the property (the
// first such in name order, "" if none) and the consts in variant order.
func discriminatorOf(u *jsonschema.Schema) (string, []any) {
	if u == nil || len(u.AnyOf) == 0 {
		return "", nil
	}
	variants := make([]*jsonschema.Schema, len(u.AnyOf))
	for i, s := range u.AnyOf {
		variants[i] = deref(s)
	}
	for _, name := range slices.Sorted(maps.Keys(variants[0].Properties)) {
		if consts, ok := constsOf(variants, name); ok {
			return name, consts
		}
	}
	return "", nil
}

// constsOf returns the const of property name in each variant, when every
// variant has one and no two are equal.
func constsOf(variants []*jsonschema.Schema, name string) ([]any, bool) {
	consts := make([]any, 0, len(variants))
	for _, s := range variants {
		p := deref(s.Properties[name])
		if p == nil || p.Const == nil {
			return nil, false
		}
		c := *p.Const
		if slices.ContainsFunc(consts, func(o any) bool { return sameJSON(o, c) }) {
			return nil, false
		}
		consts = append(consts, c)
	}
	return consts, true
}

// deref follows $ref to the schema that holds the keywords.
func deref(s *jsonschema.Schema) *jsonschema.Schema {
	for i := 0; s != nil && s.Ref != nil && i < 32; i++ {
		s = s.Ref
	}
	return s
}

// properties returns the properties allowed by the object schema at loc.
func (v *Validator) properties(loc string) map[string]*jsonschema.Schema {
	if s := deref(v.byLocation[loc]); s != nil {
		return s.Properties
	}
	return nil
}

// valueAt returns the part of root at the JSON pointer tokens loc.
func valueAt(root any, loc []string) any {
	for _, tok := range loc {
		switch x := root.(type) {
		case map[string]any:
			root = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			root = x[i]
		default:
			return nil
		}
	}
	return root
}

// display writes a value for a message as JSON: "x", 3, true.
func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// plain writes an allowed value for a list: strings bare, others as JSON.
func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return display(v)
}

func sameJSON(a, b any) bool { return display(a) == display(b) }

var escapeToken = strings.NewReplacer("~", "~0", "/", "~1")

// pointer joins tokens into a JSON pointer, escaping "~" and "/".
func pointer(loc []string, more ...string) string {
	var b strings.Builder
	for _, tok := range append(slices.Clip(loc), more...) {
		b.WriteByte('/')
		b.WriteString(escapeToken.Replace(tok))
	}
	return b.String()
}

// compareProblems orders problems by path, comparing array indexes as
// numbers, then by message.
func compareProblems(a, b Problem) int {
	as, bs := strings.Split(a.Path, "/"), strings.Split(b.Path, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := compareToken(as[i], bs[i]); c != 0 {
			return c
		}
	}
	if len(as) != len(bs) {
		return len(as) - len(bs)
	}
	return strings.Compare(a.Message, b.Message)
}

func compareToken(a, b string) int {
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	if aerr == nil && berr == nil {
		return ai - bi
	}
	return strings.Compare(a, b)
}
