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
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decodes WebP attachments to measure and scale them
)

// CheckFiles refuses the files of req's messages that no OpenAI-compatible
// chat API takes as content: anything but an image, or an image not given
// as a data: or http(s) URL. Both the OpenAI client and the scripted client
// check, so that an offline run fails where a real one would.
func CheckFiles(req Request) error {
	for _, m := range req.Messages {
		for _, f := range m.Files {
			what := fmt.Sprintf("attached file %s", cmpName(f))
			if !isImage(f.MediaType) {
				return unsupported(req.Model, 0, fmt.Sprintf("%s is %s: the OpenAI-compatible client sends images to the model, not other files; give the model its text, or images of its pages", what, f.MediaType))
			}
			if err := checkFileURL(req.Model, what, f.URL); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpName(f File) string {
	if f.Filename != "" {
		return fmt.Sprintf("%q", f.Filename)
	}
	return shorten(f.URL)
}

// isImage reports whether a media type is an image's.
func isImage(mediaType string) bool {
	t, _, err := mime.ParseMediaType(mediaType)
	return err == nil && strings.HasPrefix(t, "image/")
}

// scaleImages returns req with every attached image larger than
// req.MaxImageDimension scaled down to fit it, keeping the aspect ratio,
// as a PNG (or, for a JPEG, a JPEG) data: URL. Images are read like any
// file the client reads (load).
func (c *OpenAI) scaleImages(ctx context.Context, req Request) (Request, error) {
	limit := req.MaxImageDimension
	if limit <= 0 {
		return req, nil
	}
	msgs := make([]Message, len(req.Messages))
	for i, m := range req.Messages {
		if len(m.Files) > 0 {
			files := make([]File, len(m.Files))
			for j, f := range m.Files {
				scaled, err := c.scaleImage(ctx, req.Model, f, limit)
				if err != nil {
					return req, err
				}
				files[j] = scaled
			}
			m.Files = files
		}
		msgs[i] = m
	}
	req.Messages = msgs
	return req, nil
}

// scaleImage scales one attached image down to limit, if it exceeds it.
func (c *OpenAI) scaleImage(ctx context.Context, model string, f File, limit int) (File, error) {
	what := "attached file " + cmpName(f)
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
