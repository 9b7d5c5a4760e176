package llm

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime"
	"slices"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decodes WebP attachments to measure and scale them
)

// CheckFiles refuses the files of req's messages that no OpenAI-compatible
// chat API takes as content, naming each: video, audio other than WAV
// and MP3 (the formats of input_audio parts), and a file not given as a
// data: or http(s) URL. Images go as image parts, audio as input_audio
// parts, any other file (a PDF, a text) as a file part, which the
// endpoint may still refuse. Both the OpenAI client and the scripted
// client check, so that an offline run fails where a real one would.
func CheckFiles(req Request) error {
	for _, m := range req.Messages {
		for _, f := range m.Files {
			what := attached(f)
			kind, _, _ := strings.Cut(f.MediaType, "/")
			switch {
			case kind == "video":
				return unsupported(req.Model, 0, fmt.Sprintf("%s is %s: no OpenAI-compatible chat API takes video as content; give the model images of its frames, or its transcript", what, f.MediaType))
			case kind == "audio" && audioFormat(f.MediaType) == "":
				return unsupported(req.Model, 0, fmt.Sprintf("%s is %s: the chat API takes audio as WAV or MP3 only; convert it, or give the model its transcript", what, f.MediaType))
			}
			if err := checkFileURL(req.Model, what, f.URL); err != nil {
				return err
			}
		}
	}
	return nil
}

// audioFormat is the input_audio format of an audio media type: wav or
// mp3, else "".
func audioFormat(mediaType string) string {
	switch ext := audioExtension(mediaType); ext {
	case ".wav", ".mp3":
		return ext[1:]
	}
	return ""
}

// attached names an attached file in a message: by its file name, else
// by its (shortened) URL.
func attached(f File) string {
	if f.Filename != "" {
		return fmt.Sprintf("attached file %q", f.Filename)
	}
	return "attached file " + shorten(f.URL)
}

// isImage reports whether a media type is an image's.
func isImage(mediaType string) bool {
	t, _, err := mime.ParseMediaType(mediaType)
	return err == nil && strings.HasPrefix(t, "image/")
}

// inlineFiles returns req with its attached files ready to send: an image
// larger than req.MaxImageDimension scaled down to fit it (scaleImage),
// other images as they are, and every other file read (like any file the
// client reads, load) into a data: URL, since the chat API takes
// documents and audio only inline.
func (c *OpenAI) inlineFiles(ctx context.Context, req Request) (Request, error) {
	msgs, cloned := req.Messages, false
	for i, m := range req.Messages {
		if len(m.Files) == 0 {
			continue
		}
		files := make([]File, len(m.Files))
		for j, f := range m.Files {
			var err error
			switch {
			case !isImage(f.MediaType):
				f, err = c.inline(ctx, req.Model, f)
			case req.MaxImageDimension > 0:
				f, err = c.scaleImage(ctx, req.Model, f, req.MaxImageDimension)
			}
			if err != nil {
				return req, err
			}
			files[j] = f
		}
		if !cloned {
			msgs, cloned = slices.Clone(req.Messages), true
		}
		msgs[i].Files = files
	}
	req.Messages = msgs
	return req, nil
}

// inline reads a file into a data: URL.
func (c *OpenAI) inline(ctx context.Context, model string, f File) (File, error) {
	if head, _, ok := strings.Cut(f.URL, ","); ok && strings.EqualFold(head, "data:"+f.MediaType+";base64") {
		// Already what is sent: not decoded and encoded again on every
		// call of the thread.
		if f.Filename == "" {
			f.Filename = fileName(f.MediaType)
		}
		return f, nil
	}
	m, err := c.load(ctx, model, attached(f), Media{URL: f.URL, MediaType: f.MediaType, Filename: f.Filename})
	if err != nil {
		return f, err
	}
	f.URL = "data:" + m.MediaType + ";base64," + base64.StdEncoding.EncodeToString(m.Data)
	f.MediaType, f.Filename = m.MediaType, m.Filename
	return f, nil
}

// scaleImage scales one attached image down to limit, if it exceeds it.
func (c *OpenAI) scaleImage(ctx context.Context, model string, f File, limit int) (File, error) {
	what := attached(f)
	m, err := c.load(ctx, model, what, Media{URL: f.URL, MediaType: f.MediaType, Filename: f.Filename})
	if err != nil {
		return f, err
	}
	src, format, err := image.Decode(bytes.NewReader(m.Data))
	if err != nil {
		return f, &Error{Type: TypeValidation, Model: model, Message: fmt.Sprintf("%s is not an image octrun can read to scale it to maxImageDimension %d (%v); PNG, JPEG, GIF and WebP can be scaled", what, limit, err)}
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= limit && h <= limit {
		return f, nil
	}
	if w >= h {
		w, h = limit, max(1, h*limit/w)
	} else {
		w, h = max(1, w*limit/h), limit
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	mediaType := "image/png"
	switch format {
	case "jpeg":
		mediaType = "image/jpeg"
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&out, dst, nil)
		mediaType = "image/gif"
	default:
		err = png.Encode(&out, dst)
	}
	if err != nil {
		return f, &Error{Type: TypeValidation, Model: model, Message: fmt.Sprintf("%s could not be scaled: %v", what, err)}
	}
	f.URL = "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(out.Bytes())
	f.MediaType = mediaType
	return f, nil
}
