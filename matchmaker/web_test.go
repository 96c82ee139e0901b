package matchmaker

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestBrowserProtocols: Connect (binary and JSON) and gRPC-Web clients, as
// browsers use them, create and watch a ticket on the gRPC port, with the
// session token in the Authorization header.
func TestBrowserProtocols(t *testing.T) {
	e := startMatchmaker(t, Config{})
	base := "http://" + e.addr + "/" + skirmishv1.MatchmakerService_ServiceDesc.ServiceName
	tests := []struct {
		name string
		opts []connect.ClientOption
	}{
		{"connect", nil},
		{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			create := connect.NewClient[skirmishv1.CreateTicketRequest, skirmishv1.CreateTicketResponse](http.DefaultClient, base+"/CreateTicket", tt.opts...)
			watch := connect.NewClient[skirmishv1.WatchTicketRequest, skirmishv1.WatchTicketResponse](http.DefaultClient, base+"/WatchTicket", tt.opts...)
			cancel := connect.NewClient[skirmishv1.CancelTicketRequest, skirmishv1.CancelTicketResponse](http.DefaultClient, base+"/CancelTicket", tt.opts...)
			ctx, stop := context.WithTimeout(context.Background(), waitTimeout)
			defer stop()
			auth := "Bearer " + e.token(t, "player-"+tt.name)

			req := connect.NewRequest(&skirmishv1.CreateTicketRequest{Mode: "duel"})
			req.Header().Set("Authorization", auth)
			resp, err := create.CallUnary(ctx, req)
			if err != nil {
				t.Fatalf("CreateTicket: %v", err)
			}
			id := resp.Msg.GetTicket().GetId()
			if resp.Msg.GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
				t.Fatalf("CreateTicket = %v, want SEARCHING", resp.Msg.GetTicket())
			}

			wreq := connect.NewRequest(&skirmishv1.WatchTicketRequest{TicketId: id})
			wreq.Header().Set("Authorization", auth)
			stream, err := watch.CallServerStream(ctx, wreq)
			if err != nil {
				t.Fatalf("WatchTicket: %v", err)
			}
			defer stream.Close()
			if !stream.Receive() || stream.Msg().GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
				t.Fatalf("first WatchTicket message = %v, %v; want SEARCHING", stream.Msg(), stream.Err())
			}
			creq := connect.NewRequest(&skirmishv1.CancelTicketRequest{TicketId: id})
			creq.Header().Set("Authorization", auth)
			if _, err := cancel.CallUnary(ctx, creq); err != nil {
				t.Fatalf("CancelTicket: %v", err)
			}
			if !stream.Receive() || stream.Msg().GetTicket().GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
				t.Fatalf("second WatchTicket message = %v, %v; want CANCELLED", stream.Msg(), stream.Err())
			}
			if stream.Receive() || stream.Err() != nil {
				t.Errorf("stream after the final state: %v, %v; want a clean end", stream.Msg(), stream.Err())
			}

			// Errors keep their codes through the transcoder.
			bad := connect.NewRequest(&skirmishv1.CreateTicketRequest{Mode: "chess"})
			bad.Header().Set("Authorization", auth)
			if _, err := create.CallUnary(ctx, bad); connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("CreateTicket(chess) = %v, want InvalidArgument", err)
			}
			if _, err := create.CallUnary(ctx, connect.NewRequest(&skirmishv1.CreateTicketRequest{Mode: "duel"})); connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Errorf("CreateTicket without a token = %v, want Unauthenticated", err)
			}
		})
	}
}

// TestCORS: a page served from another origin (the gameserver's port) may
// call the matchmaker: the preflight allows the headers Connect and
// gRPC-Web send, and responses expose the ones they read.
func TestCORS(t *testing.T) {
	const origin = "http://127.0.0.1:7800"
	tests := []struct {
		name    string
		origins []string
		allowed bool
	}{
		{"any origin by default", nil, true},
		{"listed origin", []string{origin}, true},
		{"unlisted origin", []string{"https://game.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startMatchmaker(t, Config{AllowedOrigins: tt.origins})
			url := "http://" + e.addr + "/skirmish.v1.MatchmakerService/CreateTicket"
			pre, err := http.NewRequest(http.MethodOptions, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			pre.Header.Set("Origin", origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type,x-grpc-web")
			resp, err := http.DefaultClient.Do(pre)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if allowed := got == origin || got == "*"; allowed != tt.allowed {
				t.Fatalf("preflight Access-Control-Allow-Origin = %q, want allowed=%v", got, tt.allowed)
			}
			if !tt.allowed {
				return
			}
			if h := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") || !strings.Contains(h, "x-grpc-web") {
				t.Errorf("preflight Access-Control-Allow-Headers = %q, want authorization and x-grpc-web", h)
			}

			// A plain Connect JSON POST, as fetch() sends it; vanguard needs the
			// Connect-Protocol-Version header to tell Connect from REST.
			post, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"mode":"duel"}`))
			if err != nil {
				t.Fatal(err)
			}
			post.Header.Set("Origin", origin)
			post.Header.Set("Content-Type", "application/json")
			post.Header.Set("Connect-Protocol-Version", "1")
			post.Header.Set("Authorization", "Bearer "+e.token(t, "alice"))
			resp, err = http.DefaultClient.Do(post)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"TICKET_STATE_SEARCHING"`) {
				t.Errorf("POST CreateTicket = %d %s", resp.StatusCode, body)
			}
			if exp := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers")); !strings.Contains(exp, "grpc-status") {
				t.Errorf("Access-Control-Expose-Headers = %q, want grpc-status among them", exp)
			}
		})
	}
}
