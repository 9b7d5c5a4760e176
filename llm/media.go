package llm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// MediaClient makes and reads media: images, spoken audio and transcripts
// (the media blocks of rule §3.9). It is optional: a Client may
// implement it too. OpenAI, Router, Scripted and the clients of WithRetry
// do; MediaOf gives any Client's. A provider failure is an *Error, and an
// endpoint or provider that does not offer the API called gives an *Error
// that matches errors.ErrUnsupported.
type MediaClient interface {
	// GenerateImage asks an image model for one image.
	GenerateImage(ctx context.Context, req ImageRequest) (*Media, error)
	// GenerateSpeech asks a speech model to read a text aloud.
	GenerateSpeech(ctx context.Context, req SpeechRequest) (*Media, error)
	// Transcribe asks a transcription model for the text of audio.
	Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error)
}

// ImageRequest asks for one image.
type ImageRequest struct {
	// Model is the model id as the protocol writes it: provider/model-id.
	Model  string `json:"model"`
	Prompt string `json:"prompt"`
	// AspectRatio is W:H; "" means Size's ratio, else 1:1. A provider with
	// fixed sizes is asked for the supported size nearest to it (see
	// OpenAI.GenerateImage).
	AspectRatio string `json:"aspectRatio,omitempty"`
	// Size is the deprecated WxH form of the aspect ratio (1024x1792 means
	// 9:16), read only when AspectRatio is "".
	Size string `json:"size,omitempty"`
	// Resolution is 1K, 2K or 4K for the models that take it; others
	// ignore it.
	Resolution string `json:"resolution,omitempty"`
	// ReferenceImages are the URLs (data: or http(s)) of images to edit or
	// draw from.
	ReferenceImages []string `json:"referenceImages,omitempty"`
}

// SpeechRequest asks for a text read aloud.
type SpeechRequest struct {
	// Model is the model id as the protocol writes it: provider/model-id.
	Model string `json:"model"`
	Text  string `json:"text"`
	// Voice is the provider's voice id; "" lets the client choose.
	Voice string `json:"voice,omitempty"`
	// Format is mp3 (when ""), opus, aac, flac or wav.
	Format string `json:"format,omitempty"`
	// Instructions say how to speak, for the models that take them.
	Instructions string `json:"instructions,omitempty"`
	// Language is the text's ISO 639-1 code, for the models that take it.
	Language string `json:"language,omitempty"`
	// Speed is from 0.25 to 4.0; 0 means the provider's default (1.0).
	Speed float64 `json:"speed,omitempty"`
}

// TranscriptionRequest asks for the text of audio.
type TranscriptionRequest struct {
	// Model is the model id as the protocol writes it: provider/model-id.
	Model string `json:"model"`
	// Audio is the audio: its bytes, or a data: or http(s) URL, which the
	// client reads or fetches.
	Audio Media `json:"audio"`
	// Language is the audio's ISO 639-1 code; "" lets the model detect it.
	Language string `json:"language,omitempty"`
	// Timestamps asks for the start and end of each segment.
	Timestamps bool `json:"timestamps,omitempty"`
}

// Media is a file given to or made by a model: its bytes with their media
// type, or the URL where it is. It marshals to JSON (the bytes as base64).
type Media struct {
	MediaType string `json:"mediaType,omitempty"`
	Data      []byte `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
	// Filename is the file's name when known, such as an uploaded audio
	// file's; some APIs tell the format by its extension.
	Filename string `json:"filename,omitempty"`
}

// Href returns where the file is: its URL, or a data: URL holding its
// bytes when it has bytes.
func (m *Media) Href() string {
	if len(m.Data) > 0 || m.URL == "" {
		return DataURL(m.MediaType, m.Data)
	}
	return m.URL
}

// DataURL returns the data: URL (RFC 2397, base64) holding data.
func DataURL(mediaType string, data []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// parseDataURL reads a data: URL, percent-encoded or base64. A URL without
// a media type is text/plain, as RFC 2397 says.
func parseDataURL(s string) (mediaType string, data []byte, err error) {
	const scheme = "data:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return "", nil, errors.New("not a data: URL")
	}
	head, payload, ok := strings.Cut(s[len(scheme):], ",")
	if !ok {
		return "", nil, errors.New("not a data: URL (data:[<media type>][;base64],<data>)")
	}
	head, b64 := strings.CutSuffix(head, ";base64")
	mediaType = head
	if mediaType == "" || strings.HasPrefix(mediaType, ";") {
		mediaType = "text/plain" + mediaType
	}
	if b64 {
		data, err = base64.StdEncoding.DecodeString(payload)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(payload)
		}
	} else {
		var text string
		text, err = url.PathUnescape(payload)
		data = []byte(text)
	}
	if err != nil {
		return "", nil, fmt.Errorf("the data of a data: URL cannot be decoded: %w", err)
	}
	return mediaType, data, nil
}

// Transcript is the text of audio.
type Transcript struct {
	Text string `json:"text"`
	// Segments are the timed parts of the text, when timestamps were asked
	// for and the model gave them.
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is a part of a transcript with its start and end, in seconds from
// the start of the audio.
type Segment struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

// Timed returns the transcript one segment a line, each after its start
// and end as minutes and seconds to a tenth: "[0:01.5 - 0:03.2] Hello.".
// Without segments it returns Text.
func (t *Transcript) Timed() string {
	if len(t.Segments) == 0 {
		return t.Text
	}
	var b strings.Builder
	for i, s := range t.Segments {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s - %s] %s", clock(s.Start), clock(s.End), strings.TrimSpace(s.Text))
	}
	return b.String()
}

// clock writes seconds as m:ss.s.
func clock(seconds float64) string {
	tenths := int64(math.Round(max(seconds, 0) * 10))
	return fmt.Sprintf("%d:%02d.%d", tenths/600, tenths/10%60, tenths%10)
}

// The media APIs of an OpenAI-compatible endpoint, as messages name them.
const (
	apiImages        = "image generation (POST /images/generations)"
	apiSpeech        = "speech generation (POST /audio/speech)"
	apiTranscription = "transcription (POST /audio/transcriptions)"
	apiImageEdits    = "image edits (POST /images/edits)"
)

// mediaAPIs names the API of each kind of media call of a script.
var mediaAPIs = map[string]string{kindImage: apiImages, kindAudio: apiSpeech, kindTranscript: apiTranscription}

// unsupported is the error of an API that the endpoint, the provider or the
// client does not offer: a validation_error (the protocol asks for what its
// configuration cannot do), never retried. status is the endpoint's answer,
// 0 when no request was made.
func unsupported(model string, status int, message string) *Error {
	return &Error{Type: TypeValidation, StatusCode: status, Model: model, Message: message, Unsupported: true}
}

// MediaOf returns c's MediaClient: c itself when it is one, else a
// MediaClient whose calls fail with an unsupported *Error.
func MediaOf(c Client) MediaClient {
	if m, ok := c.(MediaClient); ok {
		return m
	}
	return noMedia{}
}

// noMedia is the MediaClient of a Client that makes no media.
type noMedia struct{}

func (n noMedia) fail(model, api string) *Error {
	return unsupported(model, 0, fmt.Sprintf("the model client of this run offers no %s", api))
}

// GenerateImage implements MediaClient: it fails.
func (n noMedia) GenerateImage(_ context.Context, req ImageRequest) (*Media, error) {
	return nil, n.fail(req.Model, "image generation")
}

// GenerateSpeech implements MediaClient: it fails.
func (n noMedia) GenerateSpeech(_ context.Context, req SpeechRequest) (*Media, error) {
	return nil, n.fail(req.Model, "speech generation")
}

// Transcribe implements MediaClient: it fails.
func (n noMedia) Transcribe(_ context.Context, req TranscriptionRequest) (*Transcript, error) {
	return nil, n.fail(req.Model, "transcription")
}

// imageSize returns the size an OpenAI-compatible images API is asked for:
// the supported size whose ratio is nearest to the request's aspect ratio.
// GPT Image models (gpt-image-*, chatgpt-image-*) make 1024x1024, 1536x1024
// and 1024x1536; other models are asked for DALL·E 3's 1024x1024,
// 1792x1024 and 1024x1792. So 1:1 gives 1024x1024, 16:9 (or 4:3, 3:2)
// 1792x1024 and 9:16 (or 3:4, 2:3) 1024x1792.
func imageSize(model string, req ImageRequest) string {
	ratio, ok := parseRatio(req.AspectRatio, ":")
	if !ok {
		if ratio, ok = parseRatio(req.Size, "x"); !ok {
			ratio = 1
		}
	}
	sizes := []string{"1024x1024", "1792x1024", "1024x1792"}
	if gptImage(model) {
		sizes = []string{"1024x1024", "1536x1024", "1024x1536"}
	}
	best, bestDist := sizes[0], math.Inf(1)
	for _, s := range sizes {
		r, _ := parseRatio(s, "x")
		if d := math.Abs(math.Log(ratio) - math.Log(r)); d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// parseRatio reads "W<sep>H" with positive W and H as W/H.
func parseRatio(s, sep string) (float64, bool) {
	ws, hs, ok := strings.Cut(s, sep)
	if !ok {
		return 0, false
	}
	w, err1 := strconv.ParseFloat(ws, 64)
	h, err2 := strconv.ParseFloat(hs, 64)
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		return 0, false
	}
	return w / h, true
}

// gptImage reports whether model (with or without provider prefix) is one
// of OpenAI's GPT Image models, which always answer base64 and refuse
// response_format.
func gptImage(model string) bool {
	name := path.Base(model)
	return strings.HasPrefix(name, "gpt-image") || strings.HasPrefix(name, "chatgpt-image")
}

// audioFormats pairs the audio formats of speech APIs and file extensions
// with media types; the first entry of a format or media type wins.
var audioFormats = []struct{ format, mediaType string }{
	{"mp3", "audio/mpeg"},
	{"opus", "audio/opus"},
	{"aac", "audio/aac"},
	{"flac", "audio/flac"},
	{"wav", "audio/wav"},
	{"pcm", "audio/pcm"},
	{"ogg", "audio/ogg"},
	{"webm", "audio/webm"},
	{"m4a", "audio/mp4"},
	{"mp4", "video/mp4"},
	{"mpga", "audio/mpeg"},
	{"mpeg", "audio/mpeg"},
	{"mp3", "audio/mp3"},
	{"wav", "audio/x-wav"},
	{"wav", "audio/wave"},
	{"flac", "audio/x-flac"},
	{"m4a", "audio/x-m4a"},
	{"m4a", "audio/m4a"},
	{"webm", "video/webm"},
	{"wav", "audio/vnd.wave"},
	{"mp3", "audio/x-mp3"},
}

// audioMediaType returns the media type of an audio format or extension,
// or "".
func audioMediaType(format string) string {
	format = strings.ToLower(strings.TrimPrefix(format, "."))
	for _, f := range audioFormats {
		if f.format == format {
			return f.mediaType
		}
	}
	return ""
}

// checkFileURL checks, without fetching anything, that a file the client
// must read is given as a data: URL that decodes or as an http(s) URL: the
// check the OpenAI client makes before it reads the file, which the
// scripted client makes too, so that an offline run fails where a real
// one would.
func checkFileURL(model, what, rawURL string) error {
	fail := func(format string, args ...any) error {
		return &Error{Type: TypeValidation, Model: model, Message: what + " " + fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		u = &url.URL{}
	}
	switch strings.ToLower(u.Scheme) {
	case "data":
		if _, _, err := parseDataURL(rawURL); err != nil {
			return fail("is not readable: %v", err)
		}
	case "http", "https":
	default:
		return fail("must be given as a data: or http(s) URL, got %q", shorten(rawURL))
	}
	return nil
}

// fileName is the name a file of mediaType is uploaded under when it has
// none: "audio" or "image" with the type's extension, else "file".
func fileName(mediaType string) string {
	if ext := audioExtension(mediaType); ext != "" {
		return "audio" + ext
	}
	if t, _, err := mime.ParseMediaType(mediaType); err == nil && strings.HasPrefix(t, "image/") {
		return "image." + strings.TrimPrefix(strings.TrimSuffix(t, "+xml"), "image/")
	}
	return "file"
}

// audioExtension returns the file extension of an audio media type, or "".
func audioExtension(mediaType string) string {
	if t, _, err := mime.ParseMediaType(mediaType); err == nil {
		mediaType = t
	}
	for _, f := range audioFormats {
		if f.mediaType == mediaType {
			return "." + f.format
		}
	}
	return ""
}

// imageMediaType returns the media type of an image URL by its extension,
// image/png when it has none that is known.
func imageMediaType(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		rawURL = u.Path
	}
	switch strings.ToLower(path.Ext(rawURL)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	}
	return "image/png"
}
