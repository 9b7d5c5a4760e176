package llm

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/llm/provider"
)

// chatBody is the JSON body of a streamed chat completions request for
// req, in the dialect of the provider named prov (the model's provider, ""
// when unknown) whose model is modelID. go-openai's request type carries
// the standard fields; the message parts it has no type for (documents
// and audio) and each provider's way of turning reasoning off are added
// here.
func chatBody(req Request, prov, modelID string) ([]byte, error) {
	creq, err := chatRequest(req)
	if err != nil {
		return nil, err
	}
	body := chatWire{ChatCompletionRequest: creq, Messages: make([]wireMessage, len(req.Messages))}
	for i, m := range req.Messages {
		body.Messages[i] = toWire(m)
	}
	body.reason(prov, modelID, req.Thinking)
	if prov == "openai" || prov == "" {
		// go-openai knows the parameters OpenAI's reasoning models
		// refuse, by their id (without octrun's prefix).
		check := body.ChatCompletionRequest
		check.Model = modelID
		if err := openai.NewReasoningValidator().Validate(check); err != nil {
			return nil, &Error{Type: TypeValidation, Model: req.Model, Message: err.Error()}
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, &Error{Type: TypeValidation, Model: req.Model, Message: "the request could not be encoded: " + err.Error()}
	}
	return data, nil
}

// chatWire is the body sent: go-openai's request, whose messages are
// replaced (a field of the outer struct wins over the embedded one's), with
// the fields of other dialects.
type chatWire struct {
	openai.ChatCompletionRequest
	Messages []wireMessage `json:"messages"`
	// Thinking is Anthropic's switch for extended thinking.
	Thinking *switchType `json:"thinking,omitempty"`
	// Reasoning is OpenRouter's reasoning setting.
	Reasoning *openRouterReasoning `json:"reasoning,omitempty"`
}

type switchType struct {
	Type string `json:"type"`
}

// openRouterReasoning turns reasoning off (Enabled false) or sets its
// effort.
type openRouterReasoning struct {
	Enabled *bool  `json:"enabled,omitempty"`
	Effort  string `json:"effort,omitempty"`
}

// dialect returns the provider whose form of the open settings a request
// for model takes, and the model's id within it: the client's provider
// (WithProvider) when it has one, else the model's prefix when it names a
// provider of rule C2; "" when neither tells.
func dialect(clientProvider, model string) (prov, modelID string) {
	prefix, id := provider.Split(model)
	if _, known := provider.Lookup(prefix); !known {
		prefix, id = "", model
	}
	return cmp.Or(clientProvider, prefix), id
}

// reason sets the fields of a thinking level for the provider prov: unset
// sends nothing; a level sends reasoning_effort (max as high, the most
// every model takes; OpenRouter's reasoning.effort), except to an OpenAI
// model that takes none; off sends the provider's explicit "no reasoning"
// setting, or the lowest level of a model that cannot stop reasoning
// (rule C2).
func (w *chatWire) reason(prov, modelID, thinking string) {
	switch thinking {
	case "":
	case "off":
		switch prov {
		case "openai":
			w.ReasoningEffort = openAIOff(modelID)
		case "anthropic":
			w.Thinking = &switchType{Type: "disabled"}
		case "openrouter":
			w.Reasoning = &openRouterReasoning{Enabled: new(bool)}
		case "google":
			w.ReasoningEffort = geminiOff(modelID)
		case "ollama":
			w.ReasoningEffort = openai.ReasoningEffortNone
		default:
			// Grok cannot stop reasoning (its other models refuse the
			// field), and what an unknown server takes is not known:
			// nothing is sent.
		}
	default:
		level := thinking
		if level == "max" {
			level = openai.ReasoningEffortHigh
		}
		switch {
		case prov == "openai" && openAIOff(modelID) == "":
			// It takes no reasoning_effort: it would refuse the request.
		case prov == "openrouter":
			w.Reasoning = &openRouterReasoning{Effort: level}
		default:
			w.ReasoningEffort = level
		}
	}
}

// openAIOff is the reasoning_effort that turns an OpenAI model's reasoning
// off, or as far down as it goes: "none" for GPT-5.1 and later ("low" for
// those go-openai knows cannot stop), "minimal" for GPT-5, "low" for the
// o-series, and nothing for the models that do not reason or take no
// reasoning_effort (they refuse the field).
func openAIOff(model string) string {
	switch {
	case strings.HasPrefix(model, "gpt-5-chat"), strings.HasPrefix(model, "o1-mini"), strings.HasPrefix(model, "o1-preview"):
		return ""
	case strings.HasPrefix(model, "gpt-5."), gptAfter5(model):
		none := openai.ChatCompletionRequest{Model: model, ReasoningEffort: openai.ReasoningEffortNone}
		if openai.NewReasoningValidator().Validate(none) != nil {
			return openai.ReasoningEffortLow
		}
		return openai.ReasoningEffortNone
	case strings.HasPrefix(model, "gpt-5"):
		return openai.ReasoningEffortMinimal
	case len(model) > 1 && model[0] == 'o' && model[1] >= '1' && model[1] <= '9':
		return openai.ReasoningEffortLow
	}
	return ""
}

// gptAfter5 reports whether model is gpt-N... with N above 5.
func gptAfter5(model string) bool {
	rest, ok := strings.CutPrefix(model, "gpt-")
	if !ok {
		return false
	}
	digits := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
	n, err := strconv.Atoi(digits)
	return err == nil && n > 5
}

// geminiOff is the reasoning_effort that turns a Gemini model's thinking
// off: "none", or "low" for Gemini 2.5 Pro and Gemini 3, which always
// think.
func geminiOff(model string) string {
	if strings.HasPrefix(model, "gemini-2.5-pro") || strings.HasPrefix(model, "gemini-3") {
		return openai.ReasoningEffortLow
	}
	return openai.ReasoningEffortNone
}

// wireMessage is a chat message as sent: its content is a string, or a
// list of parts when files are attached.
type wireMessage struct {
	Role       string            `json:"role"`
	Content    any               `json:"content,omitempty"`
	ToolCalls  []openai.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string            `json:"tool_call_id,omitempty"`
}

// wirePart is one part of a message's content: text, an image, a
// document (a file part holding a data: URL) or audio (base64 WAV or MP3).
type wirePart struct {
	Type       string                      `json:"type"`
	Text       string                      `json:"text,omitempty"`
	ImageURL   *openai.ChatMessageImageURL `json:"image_url,omitempty"`
	File       *wireFile                   `json:"file,omitempty"`
	InputAudio *wireAudio                  `json:"input_audio,omitempty"`
}

type wireFile struct {
	Filename string `json:"filename,omitempty"`
	FileData string `json:"file_data"`
}

type wireAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// toWire maps a message. Its files were checked (CheckFiles) and inlined
// (inlineFiles): images are data: or http(s) URLs, documents and audio
// data: URLs.
func toWire(m Message) wireMessage {
	wm := wireMessage{Role: string(m.Role), ToolCallID: m.ToolCallID}
	if m.Content != "" || m.Role != RoleAssistant || len(m.ToolCalls) == 0 {
		// Only an assistant message asking for tools may go without
		// content: the API wants it on the others, empty or not.
		wm.Content = m.Content
	}
	if len(m.Files) > 0 {
		parts := make([]wirePart, 0, 1+len(m.Files))
		if m.Content != "" {
			parts = append(parts, wirePart{Type: "text", Text: m.Content})
		}
		for _, f := range m.Files {
			parts = append(parts, filePart(f))
		}
		wm.Content = parts
	}
	for _, tc := range m.ToolCalls {
		args := tc.Arguments
		if args == "" {
			args = "{}"
		}
		wm.ToolCalls = append(wm.ToolCalls, openai.ToolCall{
			ID: tc.ID, Type: openai.ToolTypeFunction,
			Function: openai.FunctionCall{Name: tc.Name, Arguments: args},
		})
	}
	return wm
}

// filePart is the content part of an attached file.
func filePart(f File) wirePart {
	switch {
	case isImage(f.MediaType):
		return wirePart{Type: "image_url", ImageURL: &openai.ChatMessageImageURL{URL: f.URL}}
	case audioFormat(f.MediaType) != "":
		_, payload, _ := strings.Cut(f.URL, ",")
		return wirePart{Type: "input_audio", InputAudio: &wireAudio{Data: payload, Format: audioFormat(f.MediaType)}}
	}
	return wirePart{Type: "file", File: &wireFile{Filename: f.Filename, FileData: f.URL}}
}

// chatRequest maps the standard fields of a Request to go-openai's
// request; the messages are mapped by toWire.
func chatRequest(req Request) (openai.ChatCompletionRequest, error) {
	creq := openai.ChatCompletionRequest{
		Model:               req.Model,
		MaxCompletionTokens: req.MaxOutputTokens,
		Stream:              true,
		StreamOptions:       &openai.StreamOptions{IncludeUsage: true},
	}
	for _, t := range req.Tools {
		params := any(t.Parameters)
		if t.Parameters == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		creq.Tools = append(creq.Tools, openai.Tool{
			Type:     openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params},
		})
	}
	if req.Temperature != nil {
		// go-openai omits a zero temperature; the smallest positive
		// float32 is sent instead, which samples exactly like zero.
		creq.Temperature = max(float32(*req.Temperature), math.SmallestNonzeroFloat32)
	}
	if rf := req.ResponseFormat; rf != nil {
		schema, err := json.Marshal(rf.Schema)
		if err != nil {
			return creq, &Error{Type: TypeValidation, Model: req.Model, Message: "response format schema: " + err.Error()}
		}
		name := rf.Name
		if name == "" {
			name = "response"
		}
		creq.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: name, Schema: json.RawMessage(schema), Strict: rf.Strict},
		}
	}
	return creq, nil
}
