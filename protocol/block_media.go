package protocol

import (
	"github.com/octrun/octrun/internal/display"
	"regexp"
	"slices"
)

// The media blocks (rule §3.9): generate-image, generate-speech and
// transcribe-audio.

// KindGenerateImage is the kind of a generate-image block.
const KindGenerateImage = "generate-image"

// GenerateImage generates an image from a prompt variable.
type GenerateImage struct {
	BlockBase
	Prompt          Str
	ImageModel      Str
	AspectRatio     Str
	Resolution      Str
	Size            Str
	ReferenceImages []Str
	Output          Str
}

// Kind returns "generate-image".
func (*GenerateImage) Kind() string { return KindGenerateImage }

// KindGenerateSpeech is the kind of a generate-speech block.
const KindGenerateSpeech = "generate-speech"

// GenerateSpeech turns text into audio.
type GenerateSpeech struct {
	BlockBase
	Text         Str
	SpeechModel  Str
	Voice        Str
	Format       Str
	Instructions Str
	Language     Str
	Speed        Float
	Output       Str
}

// Kind returns "generate-speech".
func (*GenerateSpeech) Kind() string { return KindGenerateSpeech }

// KindTranscribeAudio is the kind of a transcribe-audio block.
const KindTranscribeAudio = "transcribe-audio"

// TranscribeAudio turns audio into text.
type TranscribeAudio struct {
	BlockBase
	Audio              Str
	TranscriptionModel Str
	Language           Str
	Timestamps         Bool
	Output             Str
}

// Kind returns "transcribe-audio".
func (*TranscribeAudio) Kind() string { return KindTranscribeAudio }

// generateImageKind is the generate-image entry of the kinds registry.
var generateImageKind = kindDef{
	display: display.Description,
	thread:  threadOptional,
	decode:  (*decoder).generateImage,
	check: func(v *validator, s *Step, what string) {
		v.checkGenerateImage(s, s.Block.(*GenerateImage), what)
	},
	models: func(b Block, _ map[string]any, add func(string)) {
		add(b.(*GenerateImage).ImageModel.Value)
	},
}

// generateSpeechKind is the generate-speech entry of the kinds registry.
var generateSpeechKind = kindDef{
	display: display.Description,
	thread:  threadOptional,
	decode:  (*decoder).generateSpeech,
	check: func(v *validator, s *Step, what string) {
		v.checkGenerateSpeech(s, s.Block.(*GenerateSpeech), what)
	},
	models: func(b Block, _ map[string]any, add func(string)) {
		add(b.(*GenerateSpeech).SpeechModel.Value)
	},
}

// transcribeAudioKind is the transcribe-audio entry of the kinds registry.
var transcribeAudioKind = kindDef{
	display: display.Description,
	thread:  threadOptional,
	decode:  (*decoder).transcribeAudio,
	check: func(v *validator, s *Step, what string) {
		v.checkTranscribeAudio(s, s.Block.(*TranscribeAudio), what)
	},
	models: func(b Block, _ map[string]any, add func(string)) {
		add(b.(*TranscribeAudio).TranscriptionModel.Value)
	},
}

// generateImage returns an empty generate-image block and the readers of its
// fields.
func (d *decoder) generateImage(what string) (Block, fields) {
	b := &GenerateImage{}
	return b, fields{
		"prompt":          d.str(&b.Prompt, what+" prompt"),
		"imageModel":      d.str(&b.ImageModel, what+" imageModel"),
		"aspectRatio":     d.str(&b.AspectRatio, what+" aspectRatio"),
		"resolution":      d.str(&b.Resolution, what+" resolution"),
		"size":            d.str(&b.Size, what+" size"),
		"referenceImages": d.names(&b.ReferenceImages, what+" referenceImages"),
		"output":          d.str(&b.Output, what+" output"),
	}
}

// generateSpeech returns an empty generate-speech block and the readers of its
// fields.
func (d *decoder) generateSpeech(what string) (Block, fields) {
	b := &GenerateSpeech{}
	return b, fields{
		"text":         d.str(&b.Text, what+" text"),
		"speechModel":  d.str(&b.SpeechModel, what+" speechModel"),
		"voice":        d.str(&b.Voice, what+" voice"),
		"format":       d.str(&b.Format, what+" format"),
		"instructions": d.text(&b.Instructions, what+" instructions"),
		"language":     d.str(&b.Language, what+" language"),
		"speed":        d.number(&b.Speed, what+" speed"),
		"output":       d.str(&b.Output, what+" output"),
	}
}

// transcribeAudio returns an empty transcribe-audio block and the readers of its
// fields.
func (d *decoder) transcribeAudio(what string) (Block, fields) {
	b := &TranscribeAudio{}
	return b, fields{
		"audio":              d.str(&b.Audio, what+" audio"),
		"transcriptionModel": d.str(&b.TranscriptionModel, what+" transcriptionModel"),
		"language":           d.str(&b.Language, what+" language"),
		"timestamps":         d.boolean(&b.Timestamps, what+" timestamps"),
		"output":             d.str(&b.Output, what+" output"),
	}
}

var (
	aspectRatio        = regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`)
	imageResolutions   = []string{"1K", "2K", "4K"}
	imageSizes         = []string{"1024x1024", "1024x1792", "1792x1024"}
	speechFormats      = []string{"aac", "flac", "mp3", "opus", "wav"}
	languageCode       = regexp.MustCompile(`^[a-z]{2}$`)
	minSpeed, maxSpeed = 0.25, 4.0
)

// checkMediaModel checks a required literal model of a media block.
func (v *validator) checkMediaModel(s *Step, what, field string, m Str) {
	switch {
	case !m.IsSet():
		v.needs(s, field, "%s needs %s: provider/model-id", what, field)
	case !modelPattern.MatchString(m.Value):
		v.errorf(m.Pos, "%s %s %q must be written provider/model-id (like \"openai/gpt-image-1\")", what, field, m.Value)
	}
}

// checkRequiredValue checks a required field that names an input or
// variable.
func (v *validator) checkRequiredValue(s *Step, what, field, purpose string, name Str) {
	if !name.IsSet() {
		v.needs(s, field, "%s needs %s: the input or variable that holds %s", what, field, purpose)
		return
	}
	v.checkReadable(what+" "+field, name)
}

func (v *validator) checkGenerateImage(s *Step, b *GenerateImage, what string) {
	v.checkRequiredValue(s, what, "prompt", "the image prompt", b.Prompt)
	v.checkMediaModel(s, what, "imageModel", b.ImageModel)
	if b.AspectRatio.IsSet() && !aspectRatio.MatchString(b.AspectRatio.Value) {
		v.errorf(b.AspectRatio.Pos, "%s aspectRatio %q must be W:H, like 16:9", what, b.AspectRatio.Value)
	}
	if b.Resolution.IsSet() && !slices.Contains(imageResolutions, b.Resolution.Value) {
		v.errorf(b.Resolution.Pos, "%s resolution %q must be %s", what, b.Resolution.Value, listOf(imageResolutions))
	}
	if b.Size.IsSet() {
		if !slices.Contains(imageSizes, b.Size.Value) {
			v.errorf(b.Size.Pos, "%s size %q must be %s; better, use aspectRatio", what, b.Size.Value, listOf(imageSizes))
		} else {
			v.warnf(b.Size.Pos, "%s size is deprecated; use aspectRatio", what)
		}
	}
	for _, r := range b.ReferenceImages {
		v.checkReadable(what+" referenceImages", r)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
}

func (v *validator) checkGenerateSpeech(s *Step, b *GenerateSpeech, what string) {
	v.checkRequiredValue(s, what, "text", "the text to speak", b.Text)
	v.checkMediaModel(s, what, "speechModel", b.SpeechModel)
	if b.Format.IsSet() && !slices.Contains(speechFormats, b.Format.Value) {
		v.errorf(b.Format.Pos, "%s format %q must be %s", what, b.Format.Value, listOf(speechFormats))
	}
	if b.Language.IsSet() && !languageCode.MatchString(b.Language.Value) {
		v.errorf(b.Language.Pos, "%s language %q must be a two-letter ISO 639-1 code, like en", what, b.Language.Value)
	}
	if b.Speed.IsSet() && (b.Speed.Value < minSpeed || b.Speed.Value > maxSpeed) {
		v.errorf(b.Speed.Pos, "%s speed must be from %g to %g", what, minSpeed, maxSpeed)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
}

func (v *validator) checkTranscribeAudio(s *Step, b *TranscribeAudio, what string) {
	v.checkRequiredValue(s, what, "audio", "the audio file or URL", b.Audio)
	v.checkMediaModel(s, what, "transcriptionModel", b.TranscriptionModel)
	if b.Language.IsSet() && !languageCode.MatchString(b.Language.Value) {
		v.errorf(b.Language.Pos, "%s language %q must be a two-letter ISO 639-1 code, like en", what, b.Language.Value)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
}
