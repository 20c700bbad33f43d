package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Sentinels for errors.Is. An *APIError matches the one its status code
// stands for, so callers branch on meaning rather than on numbers:
//
//	if errors.Is(err, client.ErrNotSubscribed) { /* wait for SUBSCRIBED */ }
var (
	// ErrNotSubscribed: a scheduler call was made while the client holds no
	// subscription (before SUBSCRIBED, or while it reconnects), or the
	// master answered 403, which on the scheduler API means the same. The
	// client fails such calls at once instead of waiting for a stream.
	ErrNotSubscribed = errors.New("not subscribed")
	// ErrBadRequest: 400, the master rejected the call (malformed, invalid,
	// an unknown offer, a stale stream ID); the message names the field.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized: 401, no or a wrong bearer token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: 403 on the operator API and plain endpoints.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict: 409, the call conflicts with the master's state.
	ErrConflict = errors.New("conflict")
	// ErrTooLarge: 413, the request body exceeds the master's limit.
	ErrTooLarge = errors.New("request too large")
	// ErrUnavailable: 503, the master knows no leader ("No leader elected")
	// or is still recovering. Streams retry; synchronous calls return it.
	ErrUnavailable = errors.New("master unavailable")
	// ErrNoHeartbeat: an event stream stayed silent for longer than the
	// allowed number of heartbeat intervals and was abandoned.
	ErrNoHeartbeat = errors.New("no heartbeat from master")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("client closed")
)

// APIError is a non-success answer from the master. Mesos answers errors
// with a plain-text body; Strata's master answers JSON {"message": ...,
// "details": [...]}; both end up in Message (and Details).
type APIError struct {
	Call       string   // what was asked: "scheduler ACCEPT", "operator GET_STATE", "GET /state"
	URL        string   // where it was finally sent, after redirects
	StatusCode int      // the HTTP status
	Message    string   // the master's explanation
	Details    []string // Strata's per-field details, if any

	scheduler bool // 403 on the scheduler API means "not subscribed"
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Call != "" {
		b.WriteString(e.Call)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Details) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(e.Details, "; "))
		b.WriteString(")")
	}
	return b.String()
}

// Is maps the status code to the sentinels above.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotSubscribed:
		return e.scheduler && e.StatusCode == http.StatusForbidden
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrUnavailable:
		return e.StatusCode == http.StatusServiceUnavailable
	}
	return false
}

// temporary reports whether retrying the same request later may succeed:
// server-side trouble and throttling, not a rejection of the request.
func (e *APIError) temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout ||
		e.StatusCode == http.StatusTooManyRequests
}

// FrameworkError is an ERROR event on the scheduler stream: the master ended
// the framework's subscription (it was torn down or removed, or another
// instance subscribed with the same framework ID). Resubscribing would not
// help, or would steal the framework back, so Scheduler.Run returns it.
type FrameworkError struct {
	Message string
}

func (e *FrameworkError) Error() string { return "master ended the subscription: " + e.Message }

// maxErrorBody bounds how much of an error answer is read: an explanation,
// not a payload.
const maxErrorBody = 64 << 10

// readAPIError turns a non-success response into an *APIError and closes
// its body.
func readAPIError(resp *http.Response, call, url string, scheduler bool) *APIError {
	defer drainClose(resp.Body)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Call: call, URL: url, StatusCode: resp.StatusCode, scheduler: scheduler}
	e.Message, e.Details = parseErrorBody(resp.Header.Get("Content-Type"), body)
	return e
}

// parseErrorBody reads Strata's JSON error shape when the body is JSON, and
// otherwise takes the body as Mesos' plain-text message.
func parseErrorBody(contentType string, body []byte) (string, []string) {
	trimmed := bytes.TrimSpace(body)
	if isJSONType(contentType) || bytes.HasPrefix(trimmed, []byte("{")) {
		var j struct {
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		}
		if err := json.Unmarshal(trimmed, &j); err == nil && (j.Message != "" || len(j.Details) > 0) {
			details := make([]string, 0, len(j.Details))
			for _, d := range j.Details {
				var s string
				if json.Unmarshal(d, &s) == nil {
					details = append(details, s)
				} else {
					details = append(details, string(d))
				}
			}
			if len(details) == 0 {
				details = nil
			}
			return j.Message, details
		}
	}
	return string(trimmed), nil
}

// isJSONType accepts "application/json" with or without parameters: the
// client is lenient in what it reads, though Strata's master sends the
// bare type.
func isJSONType(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// drainClose reads a little of what is left of a body so the connection
// can be reused, then closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
