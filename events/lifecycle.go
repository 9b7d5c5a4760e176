package events

// Start begins every stream and every continuation leg.
type Start struct {
	MessageID string `json:"messageId,omitempty"`
	// ExecutionID identifies the execution; a consumer needs it to continue.
	ExecutionID string `json:"executionId,omitempty"`
	// LastMessageID is the last message before this run (client retry rollback).
	LastMessageID string `json:"lastMessageId,omitempty"`
	SessionID     string `json:"sessionId,omitempty"`
}

// Finish ends a stream (only usage may follow it).
type Finish struct {
	FinishReason FinishReason `json:"finishReason"`
	// ExecutionID is set when the run completes or pauses for client tools.
	ExecutionID string `json:"executionId,omitempty"`
}

// Error reports a failure of the run. Retryable is always written, false
// included.
type Error struct {
	ErrorType ErrorType   `json:"errorType"`
	Message   string      `json:"message"`
	Retryable bool        `json:"retryable"`
	Source    ErrorSource `json:"source"`
	// RetryAfter is the suggested delay before a retry, in seconds.
	RetryAfter *float64 `json:"retryAfter,omitempty"`
	// Code is a machine-readable error code.
	Code     string             `json:"code,omitempty"`
	Provider *ProviderErrorInfo `json:"provider,omitempty"`
	Tool     *ToolErrorInfo     `json:"tool,omitempty"`
}

// ProviderErrorInfo details an error that came from an LLM provider.
type ProviderErrorInfo struct {
	Name       string `json:"name"`
	Model      string `json:"model,omitempty"`
	StatusCode int    `json:"statusCode,omitempty"`
	// ErrorType is the provider's own error type, free text.
	ErrorType string `json:"errorType,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// ToolErrorInfo details an error that came from a tool.
type ToolErrorInfo struct {
	Name   string `json:"name"`
	CallID string `json:"callId,omitempty"`
}

// Usage reports the cost and tokens of a standalone run, once, after finish.
type Usage struct {
	Cost   Cost   `json:"cost"`
	Tokens Tokens `json:"tokens"`
}

// Cost is the price of a run.
type Cost struct {
	Currency     string  `json:"currency"`
	BandwidthFee float64 `json:"bandwidthFee"`
	ProviderFee  float64 `json:"providerFee"`
	TotalFee     float64 `json:"totalFee"`
	// BYOK is true when the provider was paid with the user's own key.
	BYOK                 bool     `json:"byok"`
	EstimatedProviderFee *float64 `json:"estimatedProviderFee,omitempty"`
}

// Tokens counts the tokens of a run.
type Tokens struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}
