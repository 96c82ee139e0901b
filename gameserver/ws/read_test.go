package ws

import (
	"testing"

	"github.com/gorilla/websocket"
)

func TestCloseCode(t *testing.T) {
	for _, tc := range []struct {
		payload []byte
		code    int
		ok      bool
	}{
		{nil, websocket.CloseNoStatusReceived, true},
		{[]byte{3, 232}, 1000, true},
		{append([]byte{3, 233}, "bye"...), 1001, true},
		{[]byte{15, 160}, 4000, true},
		{[]byte{3}, 0, false},                          // one byte
		{[]byte{3, 237}, 0, false},                     // 1005 is never sent
		{[]byte{0, 10}, 0, false},                      // below 1000
		{append([]byte{3, 232}, 0xff, 0xfe), 0, false}, // reason not UTF-8
	} {
		code, err := closeCode(tc.payload)
		if (err == nil) != tc.ok || (tc.ok && code != tc.code) {
			t.Errorf("closeCode(%x) = %d, %v; want %d, ok %v", tc.payload, code, err, tc.code, tc.ok)
		}
	}
}
