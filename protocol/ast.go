package protocol

import (
	"sync"
	"time"

	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/protocol/template"
	"github.com/octrun/octrun/protocol/types"
)

// Str is a string written in a protocol file, with its position. The zero
// Str means the field was not written.
type Str struct {
	Value string
	Pos   diag.Pos
}

// IsSet reports whether the field was written.
func (s Str) IsSet() bool { return s.Pos.Line != 0 }

// Or returns the value, or def when the field was not written.
func (s Str) Or(def string) string {
	if s.IsSet() {
		return s.Value
	}
	return def
}

// Setting is a configuration value that is either a literal or the name of
// an input or variable whose value is read when the block runs (rule
// §9.3): model, backupModel, temperature, thinking, speed, maxSteps.
type Setting struct {
	// Literal is the value as written (string, int64, float64 or bool) when
	// Var is empty.
	Literal any
	// Var names the input or variable that supplies the value at run time.
	Var string
	Pos diag.Pos
}

// IsSet reports whether the field was written.
func (s Setting) IsSet() bool { return s.Pos.Line != 0 }

// Protocol is a loaded worker: its settings, declarations and steps, with
// the prompt templates compiled and the types resolved.
type Protocol struct {
	// Dir is the agent folder as given by the caller; File is its
	// protocol.yaml (both as displayed in diagnostics). They are paths of
	// the operating system for Load, slash-separated paths inside the fs.FS
	// for LoadFS (which FromFS reports).
	Dir, File string
	Settings  Settings

	Inputs     []*InputDef
	Variables  []*VariableDef
	Resources  []*ResourceDef
	Tools      []*ToolDef
	MCPServers []*MCPServerDef
	Workers    []*WorkerDecl
	Types      *types.Registry
	Steps      []*Step
	// Output names the variable whose final value is the worker's result.
	Output Str

	// Prompts maps a prompt name as referenced from the protocol (relative to
	// prompts/, no .md) to its compiled template.
	Prompts map[string]*template.Template
	// References are the documents of references/, by name.
	References map[string]*Reference

	// Diagnostics holds every error and warning found while loading.
	Diagnostics diag.List

	host           host
	sources        map[string][]byte // every file the load read, shared
	files          []string          // the keys of sources this agent read
	inputValidator func() (*types.Validator, error)
	validators     sync.Map // type name -> *types.Validator
	schemas        sync.Map // "tool:", "type:" name or "input" -> JSON Schema
	lookupOnce     sync.Once
	lookups        *lookups
}

// Settings is settings.json.
type Settings struct {
	Slug, Name, Description, Format Str
}

// ValueDecl is what inputs, variables and resources declare alike.
type ValueDecl struct {
	Name        Str
	Type        TypeRef
	Description string
	// Default is the initial value, or the value used when the caller omits
	// an input; HasDefault tells an explicit null from no default.
	Default    any
	HasDefault bool
}

// InputDef declares one worker input.
type InputDef struct {
	ValueDecl
	Optional bool
	Enum     []string
}

// VariableDef declares one variable.
type VariableDef struct {
	ValueDecl
}

// ResourceDef declares a (deprecated) resource.
type ResourceDef struct {
	ValueDecl
	Readonly bool
}

// TypeRef is a type expression as written (string, Finding, string[]) and
// its resolved form.
type TypeRef struct {
	Str
	Expr types.Expr
	OK   bool
}

// ToolDef declares a tool the model or a tool-call block may call.
type ToolDef struct {
	Name        Str
	Description Str
	Display     Str
	Title       Str
	Parameters  []*ParamDef
}

// ParamDef is one tool parameter.
type ParamDef struct {
	Name        Str
	Type        TypeRef
	Description string
	Optional    bool
}

// MCPServerDef declares an MCP server namespace.
type MCPServerDef struct {
	Name        Str
	Description Str
	Source      Str
	Display     Str
	Title       Str
	// ConnectionMode is connection written as text (eager or lazy), which
	// applies to remote servers only.
	ConnectionMode Str
	// Connection is connection written as a mapping: how octrun reaches a
	// consumer server (an octrun extension); nil when not written.
	Connection *MCPConnection
	Execution  Str
}

// MCPConnection is the deprecated octrun extension of a consumer MCP server's
// declaration that says how to reach the server: a stdio server is started
// with Command, Args and Env; a streamable HTTP server is reached at URL,
// sending Headers. Command, Args, the values of Env, URL and the values of
// Headers may refer to environment variables as ${NAME} (see ExpandEnv).
type MCPConnection struct {
	// Pos is where the connection mapping starts.
	Pos     diag.Pos
	Command Str
	Args    []Str
	Env     []NamedValue
	URL     Str
	Headers []NamedValue
	// Timeout bounds each request to the server; when it is not written
	// the mcp package's default (60s) applies.
	Timeout Duration

	// faulty is set when reading the mapping reported an error, so that
	// the deprecation warning shows no half-read mcp.json entry.
	faulty bool
}

// NamedValue is one entry of a mapping of names to text, such as an
// environment variable or an HTTP header.
type NamedValue struct {
	Name, Value Str
}

// Duration is a length of time written as a Go duration (30s, 1m30s).
type Duration struct {
	Value time.Duration
	Pos   diag.Pos
}

// IsSet reports whether the field was written.
func (d Duration) IsSet() bool { return d.Pos.Line != 0 }

// WorkerDecl declares a worker this one may call (rule D12).
type WorkerDecl struct {
	Slug        Str
	Description Str
	Display     Str
	Title       Str
	// Path is the callee's agent folder relative to this one; when empty
	// the sibling folder whose settings.json has the slug is used.
	Path Str
	// Tools maps the worker's tool names to this protocol's tool names.
	Tools []Mapping
	// Protocol is the loaded callee (nil when it could not be resolved).
	Protocol *Protocol
}

// Reference is one document of references/.
type Reference struct {
	Name, Description, Content string
	File                       string
}

// Mapping is one entry of an input mapping or tool mapping: Label is the
// name on the receiving side, Source where the value comes from.
type Mapping struct {
	Label, Source Str
}

// Step is one named block of steps, in document order.
type Step struct {
	Name  Str
	Block Block
}

// Block is the common view of every block kind.
type Block interface {
	// Kind is the block's discriminator, e.g. "next-message".
	Kind() string
	// Base returns the fields every block has.
	Base() *BlockBase
}

// BlockBase holds the fields common to every block.
type BlockBase struct {
	KindPos     diag.Pos
	Display     Str
	Description Str
	Title       Str
	// Thread is the thread the block acts on as written; ThreadName is the
	// name it resolves to after defaults (start-thread: the block name,
	// others: "main").
	Thread     Str
	ThreadName string
	// written lists the keys the block has in the file.
	written []string
}

// Base returns b.
func (b *BlockBase) Base() *BlockBase { return b }

// Int is a whole number written in the protocol.
type Int struct {
	Value int64
	Pos   diag.Pos
}

// IsSet reports whether the field was written.
func (i Int) IsSet() bool { return i.Pos.Line != 0 }

// Bool is a boolean written in the protocol.
type Bool struct {
	Value bool
	Pos   diag.Pos
}

// IsSet reports whether the field was written.
func (b Bool) IsSet() bool { return b.Pos.Line != 0 }

// Float is a number written in the protocol.
type Float struct {
	Value float64
	Pos   diag.Pos
}

// IsSet reports whether the field was written.
func (f Float) IsSet() bool { return f.Pos.Line != 0 }
