package protocol

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Version is the target protocol's version, v1 (docs/guides/target-protocol-v1.md).
const Version = 1

// AgentHeader is the header codomyrmex-agent sets on every answer: what
// Info says, in one line ("codomyrmex-agent/0.2.0 protocol/1 mode/serve").
// Other implementations of the protocol need not set it.
const AgentHeader = "Codomyrmex-Agent"

// Info is the body of GET /v1/info on codomyrmex-agent: what it is.
type Info struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	Mode     string `json:"mode"`
}

// Header is i as the value of AgentHeader.
func (i Info) Header() string {
	return fmt.Sprintf("%s/%s protocol/%d mode/%s", i.Name, i.Version, i.Protocol, i.Mode)
}

// InfoHandler answers GET /v1/info with i.
func InfoHandler(i Info) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, i)
	})
}

// WithAgentHeader sets AgentHeader to i on every answer of next.
func WithAgentHeader(i Info, next http.Handler) http.Handler {
	value := i.Header()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(AgentHeader, value)
		next.ServeHTTP(w, r)
	})
}

// metAgent logs, once per client and value, an AgentHeader the fleet
// answered with: the agent versions a run met.
func (c *Client) metAgent(ctx context.Context, resp *http.Response) {
	value := strings.TrimSpace(resp.Header.Get(AgentHeader))
	if value == "" || len(value) > 200 {
		return
	}
	if _, seen := c.agents.LoadOrStore(value, true); seen {
		return
	}
	c.log(ctx, "met codomyrmex-agent", map[string]any{"agent": value, "host": resp.Request.URL.Host})
}
