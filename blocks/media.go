package blocks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// GenerateImage asks an image model for an image made from the text of
// its prompt variable (rule §3.9), announces it with file-available
// and stores its URL in the output variable: a data: URL when the provider
// sent the bytes. Each referenceImages variable holds an image URL or a
// file; one without a value is left out.
type GenerateImage struct {
	def *protocol.GenerateImage
}

// Run implements Block.
func (b *GenerateImage) Run(ctx context.Context, env *Env) error {
	d := b.def
	prompt, err := textValue(env, "prompt", d.Prompt.Value)
	if err != nil {
		return err
	}
	req := llm.ImageRequest{Model: d.ImageModel.Value, Prompt: prompt, AspectRatio: d.AspectRatio.Value, Size: d.Size.Value, Resolution: d.Resolution.Value}
	for _, name := range d.ReferenceImages {
		v := env.State.Values[name.Value]
		if v == nil {
			continue
		}
		image, err := fileValue(env, "referenceImages", name.Value, v)
		if err != nil {
			return err
		}
		req.ReferenceImages = append(req.ReferenceImages, image.URL)
	}
	res, err := env.Effects.Media(ctx, effect.MediaRequest{Key: env.key(), Image: &req})
	if err != nil {
		return mediaFailed(env, err)
	}
	deliver(env, res.File, d.Output)
	return nil
}

// GenerateSpeech asks a speech model to read the text of its text variable
// aloud (rule §3.9), in the format written (mp3 by default),
// announces the audio with file-available and stores its URL in the output
// variable: a data: URL when the provider sent the bytes.
type GenerateSpeech struct {
	def *protocol.GenerateSpeech
}

// Run implements Block.
func (b *GenerateSpeech) Run(ctx context.Context, env *Env) error {
	d := b.def
	text, err := textValue(env, "text", d.Text.Value)
	if err != nil {
		return err
	}
	req := llm.SpeechRequest{Model: d.SpeechModel.Value, Text: text, Voice: d.Voice.Value, Format: d.Format.Or("mp3"),
		Instructions: d.Instructions.Value, Language: d.Language.Value}
	if d.Speed.IsSet() {
		req.Speed = d.Speed.Value
	}
	res, err := env.Effects.Media(ctx, effect.MediaRequest{Key: env.key(), Speech: &req})
	if err != nil {
		return mediaFailed(env, err)
	}
	deliver(env, res.File, d.Output)
	return nil
}

// TranscribeAudio asks a transcription model for the text of the audio its
// audio variable holds, as a URL (data: or http(s)) or a file (rule
// §3.9), and stores the text in the output variable. With timestamps, the
// text is one segment a line after its start and end, "[0:01.5 - 0:03.2]
// text" (llm.Transcript.Timed), when the model gave segments.
type TranscribeAudio struct {
	def *protocol.TranscribeAudio
}

// Run implements Block.
func (b *TranscribeAudio) Run(ctx context.Context, env *Env) error {
	d := b.def
	v := env.State.Values[d.Audio.Value]
	if v == nil {
		return executionError("block %q: audio: %s has no value; it must hold the audio's URL or file", env.Step.Name.Value, d.Audio.Value)
	}
	audio, err := fileValue(env, "audio", d.Audio.Value, v)
	if err != nil {
		return err
	}
	res, err := env.Effects.Media(ctx, effect.MediaRequest{Key: env.key(), Transcription: &llm.TranscriptionRequest{
		Model: d.TranscriptionModel.Value, Audio: audio, Language: d.Language.Value, Timestamps: d.Timestamps.Value}})
	if err != nil {
		return mediaFailed(env, err)
	}
	t := res.Transcript
	text := t.Text
	if d.Timestamps.Value {
		text = t.Timed()
	}
	if d.Output.IsSet() {
		env.State.Values[d.Output.Value] = text
	}
	return nil
}

// textValue returns the text a variable of a media block holds; no value,
// an empty text or a value that is not text fails the run.
func textValue(env *Env, field, name string) (string, error) {
	v := env.State.Values[name]
	if v == nil {
		return "", executionError("block %q: %s: %s has no value", env.Step.Name.Value, field, name)
	}
	text, ok := v.(string)
	if !ok {
		return "", executionError("block %q: %s: %s holds %s, not text", env.Step.Name.Value, field, name, kindOf(v))
	}
	if strings.TrimSpace(text) == "" {
		return "", executionError("block %q: %s: %s is empty", env.Step.Name.Value, field, name)
	}
	return text, nil
}

// fileValue reads a variable's value v that points to a file: a URL, or a
// file ({id, mediaType, url, filename?}) whose URL, media type and name are
// kept.
func fileValue(env *Env, field, name string, v any) (llm.Media, error) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		return llm.Media{URL: s}, nil
	}
	if m, ok := v.(map[string]any); ok {
		raw, _ := json.Marshal(m)
		var f threads.FileReference
		if json.Unmarshal(raw, &f) == nil && f.URL != "" {
			return llm.Media{URL: f.URL, MediaType: f.MediaType, Filename: f.Filename}, nil
		}
	}
	return llm.Media{}, executionError("block %q: %s: %s holds %s, not a URL or a file with a url", env.Step.Name.Value, field, name, kindOf(v))
}

// kindOf names the JSON type of a value for messages.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "an empty text"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a number"
}

// mediaFailed is the failure of a media call: the provider's error (its
// errorType reaches the error event) or the context's, under the block's
// name.
func mediaFailed(env *Env, err error) error {
	return fmt.Errorf("block %q: %w", env.Step.Name.Value, err)
}

// deliver announces a generated file with file-available and stores its
// URL in the output variable, if any.
func deliver(env *Env, f *llm.Media, output protocol.Str) {
	url := f.Href()
	ev := events.FileAvailable{ID: env.State.NewID("file"), MediaType: f.MediaType, URL: url}
	if len(f.Data) > 0 {
		size := int64(len(f.Data))
		ev.Size = &size
	}
	env.Events.Emit(ev)
	if output.IsSet() {
		env.State.Values[output.Value] = url
	}
}
