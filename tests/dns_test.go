package tests

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a real DNS server on loopback UDP whose answers the test
// scripts (IMPORT_DNS_SERVER points the server's import client at it). A
// name answers its addresses in turn, one A query after another, the last
// one for good: {"rebind.test.": {public, loopback}} is DNS rebinding.
type dnsServer struct {
	Addr string
	mu   sync.Mutex
	seq  map[string][]netip.Addr
	asks map[string]int // A queries per name
}

func startDNS(t *testing.T, answers map[string][]string) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	d := &dnsServer{Addr: conn.LocalAddr().String(), seq: map[string][]netip.Addr{}, asks: map[string]int{}}
	for name, addrs := range answers {
		for _, a := range addrs {
			d.seq[strings.ToLower(name)] = append(d.seq[strings.ToLower(name)], netip.MustParseAddr(a))
		}
	}
	go d.serve(conn)
	return d
}

// Asked returns how many A queries name has had.
func (d *dnsServer) Asked(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asks[strings.ToLower(name)]
}

func (d *dnsServer) serve(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := d.answer(buf[:n]); ok {
			_, _ = conn.WriteTo(resp, from)
		}
	}
}

func (d *dnsServer) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	seq, known := d.seq[name]
	var addr netip.Addr
	if known && q.Type == dnsmessage.TypeA {
		d.asks[name]++
		addr = seq[min(d.asks[name], len(seq))-1]
	}
	d.mu.Unlock()
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true, RCode: rcode})
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if addr.Is4() {
		// TTL 0: nothing may cache the first answer.
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}, dnsmessage.AResource{A: addr.As4()})
	}
	out, err := b.Finish()
	return out, err == nil
}
