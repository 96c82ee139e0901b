package litequeue

import (
	"fmt"
	"strconv"
	"strings"
)

// A receipt handle names one receive of one message: "<id>#<receive count>".

func makeHandle(id string, received int) string {
	return id + "#" + strconv.Itoa(received)
}

func parseHandle(h string) (id string, received int, err error) {
	i := strings.LastIndexByte(h, '#')
	if i <= 0 {
		return "", 0, fmt.Errorf("%w: %q", ErrInvalidHandle, h)
	}
	received, err = strconv.Atoi(h[i+1:])
	if err != nil || received < 1 {
		return "", 0, fmt.Errorf("%w: %q", ErrInvalidHandle, h)
	}
	return h[:i], received, nil
}
