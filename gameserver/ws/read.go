package ws

import "errors"

// The server reads its players' frames with wsframe.Reader (masked client
// frames) and writes its own (write.go): gorilla/websocket only upgrades
// the connection.

// errClosed is the reader's error once the client's close frame came.
var errClosed = errors.New("websocket: closed by the client")
