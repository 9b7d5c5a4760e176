package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"

	"github.com/sashabaranov/go-openai"
)

// maxMediaBytes bounds a file read for or from a model: 100 MiB.
const maxMediaBytes = 100 << 20

// defaultVoice is the voice sent when a speech request names none: OpenAI's
// speech API has no default.
const defaultVoice = "alloy"

// GenerateImage implements MediaClient through POST /images/generations
// (go-openai's CreateImage), sending req.Model unchanged and asking for one
// image of the size nearest to the aspect ratio (see ImageRequest; 1:1 is
// 1024x1024, 16:9 is 1792x1024 and 9:16 is 1024x1792, or 1536x1024 and
// 1024x1536 for GPT Image models). It asks for base64 (b64_json), so that
// nothing has to be fetched; GPT Image models, which always answer base64
// and refuse response_format, are sent none. An answer with a URL instead
// gives a Media holding that URL. Resolution is not sent. With reference
// images the request goes to POST /images/edits instead (see editImage).
func (c *OpenAI) GenerateImage(ctx context.Context, req ImageRequest) (*Media, error) {
	if len(req.ReferenceImages) > 0 {
		return c.editImage(ctx, req)
	}
	ireq := openai.ImageRequest{Model: req.Model, Prompt: req.Prompt, N: 1, Size: imageSize(req.Model, req)}
	if !gptImage(req.Model) {
		ireq.ResponseFormat = openai.CreateImageResponseFormatB64JSON
	}
	var status httpStatus
	resp, err := c.client.CreateImage(context.WithValue(ctx, httpStatusKey{}, &status), ireq)
	if err != nil {
		return nil, mediaError(ctx, err, &status, req.Model, apiImages)
	}
	return imageOf(req.Model, resp.Data)
}

// editImage implements GenerateImage with reference images through POST
// /images/edits: a multipart form with the model, the prompt, one image,
// the size, and each reference image as a file ("image" for one, repeated
// "image[]" for several, as GPT Image models take them), read like an
// audio file (Transcribe). go-openai's edit call takes one image only.
func (c *OpenAI) editImage(ctx context.Context, req ImageRequest) (*Media, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	fields := [][2]string{{"model", req.Model}, {"prompt", req.Prompt}, {"n", "1"}, {"size", imageSize(req.Model, req)}}
	if !gptImage(req.Model) {
		fields = append(fields, [2]string{"response_format", string(openai.CreateImageResponseFormatB64JSON)})
	}
	for _, f := range fields {
		_ = form.WriteField(f[0], f[1])
	}
	name := "image"
	if len(req.ReferenceImages) > 1 {
		name = "image[]"
	}
	for i, ref := range req.ReferenceImages {
		img, err := c.load(ctx, req.Model, fmt.Sprintf("reference image %d", i+1), Media{URL: ref})
		if err != nil {
			return nil, err
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, img.Filename))
		h.Set("Content-Type", img.MediaType)
		part, _ := form.CreatePart(h)
		_, _ = part.Write(img.Data)
	}
	_ = form.Close()
	var status httpStatus
	resp, err := c.post(ctx, "/images/edits", form.FormDataContentType(), body.Bytes(), &status)
	if err != nil {
		return nil, mediaError(ctx, err, &status, req.Model, apiImageEdits)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 2*maxMediaBytes))
	if err != nil {
		return nil, mediaError(ctx, err, &status, req.Model, apiImageEdits)
	}
	var answer openai.ImageResponse
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, badMedia(req.Model, "the image edits API answered something that is not JSON: "+err.Error())
	}
	return imageOf(req.Model, answer.Data)
}

// imageOf is the first image of an images API answer.
func imageOf(model string, images []openai.ImageResponseDataInner) (*Media, error) {
	if len(images) == 0 {
		return nil, badMedia(model, "the images API answered without an image")
	}
	switch d := images[0]; {
	case d.B64JSON != "":
		data, err := base64.StdEncoding.DecodeString(d.B64JSON)
		if err != nil {
			return nil, badMedia(model, "the image's b64_json is not base64: "+err.Error())
		}
		mediaType := http.DetectContentType(data)
		if !strings.HasPrefix(mediaType, "image/") {
			mediaType = "image/png"
		}
		return &Media{MediaType: mediaType, Data: data}, nil
	case d.URL != "":
		return &Media{MediaType: imageMediaType(d.URL), URL: d.URL}, nil
	}
	return nil, badMedia(model, "the images API answered an image with neither b64_json nor url")
}

// GenerateSpeech implements MediaClient through POST /audio/speech
// (go-openai's CreateSpeech), sending req.Model unchanged. A request
// without a voice is sent alloy, as OpenAI's API needs one; without a
// format, mp3. Language is not sent: OpenAI's speech models read the
// language from the text. The media type is the answer's Content-Type when
// that is audio, else the format's.
func (c *OpenAI) GenerateSpeech(ctx context.Context, req SpeechRequest) (*Media, error) {
	format := cmp.Or(req.Format, "mp3")
	sreq := openai.CreateSpeechRequest{
		Model:          openai.SpeechModel(req.Model),
		Input:          req.Text,
		Voice:          openai.SpeechVoice(cmp.Or(req.Voice, defaultVoice)),
		Instructions:   req.Instructions,
		ResponseFormat: openai.SpeechResponseFormat(format),
		Speed:          req.Speed,
	}
	var status httpStatus
	raw, err := c.client.CreateSpeech(context.WithValue(ctx, httpStatusKey{}, &status), sreq)
	if err != nil {
		return nil, mediaError(ctx, err, &status, req.Model, apiSpeech)
	}
	defer raw.Close()
	data, err := io.ReadAll(io.LimitReader(raw, maxMediaBytes+1))
	switch {
	case err != nil:
		return nil, classify(ctx, err, &status, req.Model)
	case len(data) > maxMediaBytes:
		return nil, badMedia(req.Model, fmt.Sprintf("the speech API answered more than %d MiB of audio", maxMediaBytes>>20))
	case len(data) == 0:
		return nil, badMedia(req.Model, "the speech API answered without audio")
	}
	contentType := raw.Header().Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(mediaType, "audio/"):
	case mediaType == "" || mediaType == "application/octet-stream":
		mediaType = cmp.Or(audioMediaType(format), "application/octet-stream")
	default:
		return nil, badMedia(req.Model, fmt.Sprintf("the speech API answered %s instead of audio", contentType))
	}
	return &Media{MediaType: mediaType, Data: data}, nil
}

// Transcribe implements MediaClient through POST /audio/transcriptions
// (go-openai's CreateTranscription), sending req.Model unchanged. The audio
// is uploaded as a file: its bytes, those of a data: URL, or those fetched
// from an http(s) URL with the client's HTTP client (at most 100 MiB). Its
// file name (which OpenAI reads the format from) is the Media's Filename,
// else the URL's, else "audio" with the extension of its media type. With
// Timestamps the response format is verbose_json with segment timestamps.
func (c *OpenAI) Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error) {
	audio, err := c.load(ctx, req.Model, "the audio", req.Audio)
	if err != nil {
		return nil, err
	}
	areq := openai.AudioRequest{
		Model:    req.Model,
		FilePath: audio.Filename,
		Reader:   openai.WrapReader(bytes.NewReader(audio.Data), audio.Filename, audio.MediaType),
		Language: req.Language,
	}
	if req.Timestamps {
		areq.Format = openai.AudioResponseFormatVerboseJSON
		areq.TimestampGranularities = []openai.TranscriptionTimestampGranularity{openai.TranscriptionTimestampGranularitySegment}
	}
	var status httpStatus
	resp, err := c.client.CreateTranscription(context.WithValue(ctx, httpStatusKey{}, &status), areq)
	if err != nil {
		return nil, mediaError(ctx, err, &status, req.Model, apiTranscription)
	}
	t := &Transcript{Text: resp.Text}
	for _, s := range resp.Segments {
		t.Segments = append(t.Segments, Segment{Start: s.Start, End: s.End, Text: strings.TrimSpace(s.Text)})
	}
	return t, nil
}

// load returns m, the file what names ("the audio", "reference image 2"),
// with its bytes, media type and file name: the bytes given, those of a
// data: URL, or those fetched from an http(s) URL. A file that cannot be
// read is a validation_error; a cancelled ctx gives ctx's error.
func (c *OpenAI) load(ctx context.Context, model, what string, m Media) (Media, error) {
	fail := func(format string, args ...any) (Media, error) {
		return Media{}, &Error{Type: TypeValidation, Model: model, Message: what + " " + fmt.Sprintf(format, args...)}
	}
	if len(m.Data) == 0 {
		if err := checkFileURL(model, what, m.URL); err != nil {
			return Media{}, err
		}
	}
	u, err := url.Parse(m.URL)
	if err != nil {
		u = &url.URL{}
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case len(m.Data) > 0:
	case scheme == "data":
		mediaType, data, _ := parseDataURL(m.URL) // checked above
		m.Data, m.MediaType = data, cmp.Or(m.MediaType, mediaType)
	default: // http or https, checked above
		data, mediaType, err := c.fetch(ctx, m.URL)
		if ctx.Err() != nil {
			return Media{}, ctx.Err()
		}
		if err != nil {
			return fail("at %s could not be fetched: %v", m.URL, err)
		}
		m.Data, m.MediaType = data, cmp.Or(m.MediaType, mediaType)
		if m.Filename == "" && path.Ext(u.Path) != "" {
			m.Filename = path.Base(u.Path)
		}
	}
	if len(m.Data) > maxMediaBytes {
		return fail("is larger than %d MiB", maxMediaBytes>>20)
	}
	if t, _, err := mime.ParseMediaType(m.MediaType); err == nil {
		m.MediaType = t
	}
	if m.Filename == "" {
		m.Filename = fileName(m.MediaType)
	}
	return m, nil
}

// fetch GETs a file: its bytes (at most maxMediaBytes) and Content-Type.
func (c *OpenAI) fetch(ctx context.Context, rawURL string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMediaBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxMediaBytes {
		return nil, "", fmt.Errorf("it is larger than %d MiB", maxMediaBytes>>20)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// shorten cuts a long value for a message.
func shorten(s string) string {
	const limit = 80
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// mediaError classifies an error of a media call like classify, except
// that an endpoint answering 404 (other than for a missing model), 405 or
// 501 does not offer the API: that is an unsupported *Error.
func mediaError(ctx context.Context, err error, status *httpStatus, model, api string) error {
	var apiErr *openai.APIError
	missingModel := errors.As(err, &apiErr) && apiErr.Code == "model_not_found"
	err = classify(ctx, err, status, model)
	e, ok := errors.AsType[*Error](err)
	if !ok || missingModel {
		return err
	}
	switch e.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return noAPI(e, api)
	}
	return err
}

// noAPI is the unsupported *Error of an endpoint that answered e to a call
// of api.
func noAPI(e *Error, api string) *Error {
	msg := "the endpoint does not offer " + api
	if answer := strings.TrimSpace(e.Message); answer != "" && answer != http.StatusText(e.StatusCode) {
		msg += " (it answered: " + answer + ")"
	}
	u := unsupported(e.Model, e.StatusCode, msg)
	u.Provider = e.Provider
	return u
}

// badMedia is the error of a media answer octrun cannot use.
func badMedia(model, message string) *Error {
	return &Error{Type: TypeProvider, Model: model, Message: message}
}
