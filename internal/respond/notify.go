package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Webhooks posts messages as JSON to configured URLs, by channel name.
type Webhooks struct {
	URLs   map[string]string
	Client *http.Client // default: 10 s timeout, no proxy from the environment
}

var _ Notifier = (*Webhooks)(nil)

var defaultWebhookClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
}

// Notify posts m to the channel's URL. A 4xx answer is permanent (the
// receiver refuses the message; retrying cannot help); a 5xx answer or a
// network error is worth retrying.
func (w *Webhooks) Notify(ctx context.Context, channel string, m Message) error {
	url, ok := w.URLs[channel]
	if !ok {
		return fmt.Errorf("no webhook is configured for channel %q: %w", channel, ErrNotAvailable)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return &Permanent{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &Permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "airlock-notify")
	c := w.Client
	if c == nil {
		c = defaultWebhookClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", channel, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return &Permanent{fmt.Errorf("webhook %s answered %s", channel, resp.Status)}
	}
	return fmt.Errorf("webhook %s answered %s", channel, resp.Status)
}
