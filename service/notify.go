package service

import (
	"net"
	"time"
)

// notify tells the service manager the agent's state — sd_notify(3): "READY=1", "STATUS=…", one
// per line — on the datagram socket it names in NOTIFY_SOCKET (a path, or "@name" for an abstract
// socket, which Go's net package reads as such). Without NOTIFY_SOCKET (not under systemd, or a
// unit without Type=notify) it does nothing. Written here over one unixgram write, with a
// deadline, rather than taking go-systemd for it.
func notify(getenv func(string) string, state string) error {
	path := getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, err = conn.Write([]byte(state))
	return err
}
