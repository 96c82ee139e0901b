package matchmaker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/skirmishgg/skirmish/internal/limits"
)

// checkConnectUnary answers bad Connect unary requests itself, in the
// Connect protocol's form, before they reach the transcoder (which would
// pass on gRPC's INTERNAL for a message it cannot decode): a POST to an
// RPC path whose content type no protocol uses gets 415; a Connect unary
// request (application/proto or application/json) whose body does not
// decode as the method's request message gets 400 invalid_argument. The
// body, at most the body limit, is read once and handed on. A unary
// request without the Connect-Protocol-Version header (curl, a hand-made
// fetch) is taken as Connect version 1, as connect-go servers take it by
// default: the transcoder needs the header to tell Connect from REST and
// would answer 404. Connect protocol: https://connectrpc.com/docs/protocol
func checkConnectUnary(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case strings.HasPrefix(ct, "application/grpc"), strings.HasPrefix(ct, "application/connect+"):
			h.ServeHTTP(w, r) // framed protocols: the transcoder checks them
			return
		case ct != "application/proto" && ct != "application/json":
			connectError(w, http.StatusUnsupportedMediaType, "invalid_argument",
				fmt.Sprintf("content type %q: want application/proto, application/json, application/connect+* or application/grpc*", limits.Clip(ct, 64)))
			return
		}
		in := requestMessage(r.URL.Path)
		if in == nil {
			h.ServeHTTP(w, r) // no such method: the transcoder answers 404
			return
		}
		body, err := io.ReadAll(r.Body)
		var ce *connect.Error
		switch {
		case errors.As(err, &ce) && ce.Code() == connect.CodeResourceExhausted: // tooLargeBody
			connectError(w, http.StatusTooManyRequests, "resource_exhausted", ce.Message())
			return
		case err != nil:
			connectError(w, http.StatusBadRequest, "invalid_argument", "request body: "+limits.Clip(err.Error(), 256))
			return
		}
		if ct == "application/json" {
			err = protojson.Unmarshal(body, in)
		} else {
			err = proto.Unmarshal(body, in)
		}
		if err != nil {
			connectError(w, http.StatusBadRequest, "invalid_argument", "request: "+limits.Clip(err.Error(), 256))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if r.Header.Get(connectVersionHeader) == "" {
			r.Header.Set(connectVersionHeader, "1")
		}
		h.ServeHTTP(w, r)
	})
}

// connectVersionHeader names the Connect protocol version of a unary
// request; version 1 is the only one.
const connectVersionHeader = "Connect-Protocol-Version"

// requestMessage returns a new request message of the method an RPC path
// (/package.Service/Method) names, or nil when there is no such method.
func requestMessage(path string) proto.Message {
	service, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil
	}
	return mt.New().Interface()
}

// connectError writes a Connect unary error.
func connectError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}
