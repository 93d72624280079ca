// Command modcast-goproxy is the Go module proxy used by modcast's tests and benchmarks.
//
//	modcast-goproxy serve    — a real GOPROXY server: the github.com/goproxy/goproxy handler with a
//	                            directory cache (its "storage"), wrapped in an access log that modcast ingests.
//	modcast-goproxy upstream — an offline upstream: serves a GOPROXY file tree (a GOMODCACHE's
//	                            cache/download) over loopback HTTP with injected latency, and counts what
//	                            it served so tests can prove the proxy answered from its storage.
//
// Both listen on loopback only and write their bound address to -addr-file once ready.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goproxy/goproxy"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: modcast-goproxy serve|upstream [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = runServe(os.Args[2:])
	case "upstream":
		err = runUpstream(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want serve or upstream)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "modcast-goproxy:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------------------------
// Shared: loopback listener, in-flight and request counters, graceful stop.

// stats counts requests the way tests measure limits: totals, bytes and the peak of concurrent requests.
type stats struct {
	mu          sync.Mutex
	requests    int64
	bytes       int64
	inFlight    int64
	maxInFlight int64
	byPath      map[string]int64
}

func newStats() *stats { return &stats{byPath: map[string]int64{}} }

func (s *stats) begin() {
	s.mu.Lock()
	s.inFlight++
	if s.inFlight > s.maxInFlight {
		s.maxInFlight = s.inFlight
	}
	s.mu.Unlock()
}

func (s *stats) end(p string, n int64) {
	s.mu.Lock()
	s.inFlight--
	s.requests++
	s.bytes += n
	s.byPath[p]++
	s.mu.Unlock()
}

func (s *stats) serveHTTP(rw http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Method == http.MethodPost || req.Method == http.MethodDelete {
		s.requests, s.bytes, s.maxInFlight = 0, 0, s.inFlight
		s.byPath = map[string]int64{}
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"requests": s.requests, "bytes": s.bytes, "inFlight": s.inFlight, "maxInFlight": s.maxInFlight, "byPath": s.byPath,
	})
}

// countingWriter records status and body bytes of a response.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func listenLoopback(addr, addrFile string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("refusing to listen on %s: loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if addrFile != "" {
		tmp := addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, addrFile); err != nil {
			return nil, err
		}
	}
	fmt.Println("listening on", ln.Addr().String())
	return ln, nil
}

func serveUntilSignal(ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

// ---------------------------------------------------------------------------------------------
// serve: the GOPROXY server

// cacheOutcome is attached to a request's context; the cacher wrapper fills it in.
type cacheOutcome struct{ state atomic.Int32 } // 0 unknown, 1 hit, 2 miss

type outcomeKey struct{}

// observingCacher reports whether the handler found the request's file in storage.
type observingCacher struct{ inner goproxy.Cacher }

func (c observingCacher) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := c.inner.Get(ctx, name)
	if o, ok := ctx.Value(outcomeKey{}).(*cacheOutcome); ok {
		switch {
		case err == nil:
			o.state.CompareAndSwap(0, 1)
		case errors.Is(err, fs.ErrNotExist):
			o.state.Store(2)
		}
	}
	return rc, err
}

func (c observingCacher) Put(ctx context.Context, name string, content io.ReadSeeker) error {
	if o, ok := ctx.Value(outcomeKey{}).(*cacheOutcome); ok {
		o.state.Store(2) // whatever was put came from upstream
	}
	return c.inner.Put(ctx, name, content)
}

// accessLog writes one JSON line per request in modcast's own JSON-lines shape (`--format jsonl` with the
// default field map): time, method, path, status, body bytes, duration and whether storage answered.
type accessLog struct {
	mu sync.Mutex
	w  io.Writer
}

type accessRecord struct {
	Time        string  `json:"ts"`
	Method      string  `json:"method"`
	Path        string  `json:"path"`
	Status      int     `json:"status"`
	Bytes       int64   `json:"bytes"`
	DurationMs  float64 `json:"duration_ms"`
	CacheStatus string  `json:"cache_status"`
	ClientIP    string  `json:"client_ip"`
	UserAgent   string  `json:"user_agent"`
}

func (l *accessLog) write(r accessRecord) {
	b, _ := json.Marshal(r)
	b = append(b, '\n')
	l.mu.Lock()
	_, _ = l.w.Write(b)
	l.mu.Unlock()
}

func runServe(args []string) error {
	fset := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fset.String("addr", "127.0.0.1:0", "loopback address to listen on")
	addrFile := fset.String("addr-file", "", "write the bound address here once listening")
	storage := fset.String("storage", "", "directory of the proxy's module storage (required)")
	upstream := fset.String("upstream", "", "GOPROXY of the upstream, e.g. http://127.0.0.1:9000 or file:///path (required)")
	accessLogFile := fset.String("access-log", "", "append the access log here (default stdout)")
	pathPrefix := fset.String("path-prefix", "/", "mount prefix of the GOPROXY protocol")
	tempDir := fset.String("temp-dir", "", "temporary files (default: <storage>/../tmp)")
	logClockStart := fset.String("log-clock-start", "", "RFC 3339 time the access log's clock reads now (default: the system clock's)")
	_ = fset.Parse(args)
	if *storage == "" || *upstream == "" {
		return errors.New("serve needs -storage and -upstream")
	}
	// A test whose process clock is faked (libfaketime, which a Go binary ignores) hands its time over, so the access
	// log it reads back is on its own clock.
	var logClockOffset time.Duration
	if *logClockStart != "" {
		at, err := time.Parse(time.RFC3339Nano, *logClockStart)
		if err != nil {
			return fmt.Errorf("-log-clock-start: %w", err)
		}
		logClockOffset = time.Until(at)
	}
	if *tempDir == "" {
		*tempDir = filepath.Join(filepath.Dir(filepath.Clean(*storage)), "tmp")
	}
	if err := os.MkdirAll(*tempDir, 0o755); err != nil {
		return err
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	g := &goproxy.Goproxy{
		Fetcher: &goproxy.GoFetcher{
			// Offline: only the configured upstream, no checksum database, no direct VCS fetches.
			Env:       []string{"GOPROXY=" + *upstream, "GOSUMDB=off", "GONOSUMDB=*", "GOFLAGS=-mod=mod", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")},
			TempDir:   *tempDir,
			Transport: transport,
		},
		Cacher:    observingCacher{goproxy.DirCacher(*storage)},
		TempDir:   *tempDir,
		Transport: transport,
		Logger:    logger,
	}

	out := io.Writer(os.Stdout)
	if *accessLogFile != "" {
		f, err := os.OpenFile(*accessLogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	alog := &accessLog{w: out}
	st := newStats()
	prefix := "/" + strings.Trim(*pathPrefix, "/")
	if prefix != "/" {
		prefix += "/"
	}
	var handler http.Handler = g
	if prefix != "/" {
		handler = http.StripPrefix(strings.TrimSuffix(prefix, "/"), g)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/_modcast/stats", st.serveHTTP)
	mux.HandleFunc("/_modcast/health", func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "ok\n") })
	mux.HandleFunc("/", func(rw http.ResponseWriter, req *http.Request) {
		start := time.Now()
		outcome := &cacheOutcome{}
		cw := &countingWriter{ResponseWriter: rw}
		st.begin()
		handler.ServeHTTP(cw, req.WithContext(context.WithValue(req.Context(), outcomeKey{}, outcome)))
		st.end(req.URL.Path, cw.bytes)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		cache := [...]string{"unknown", "hit", "miss"}[outcome.state.Load()]
		host, _, _ := net.SplitHostPort(req.RemoteAddr)
		alog.write(accessRecord{
			Time: start.Add(logClockOffset).UTC().Format(time.RFC3339Nano), Method: req.Method, Path: req.URL.RequestURI(), Status: cw.status,
			Bytes: cw.bytes, DurationMs: float64(time.Since(start).Microseconds()) / 1000, CacheStatus: cache,
			ClientIP: host, UserAgent: req.UserAgent(),
		})
	})

	ln, err := listenLoopback(*addr, *addrFile)
	if err != nil {
		return err
	}
	return serveUntilSignal(ln, mux)
}

// ---------------------------------------------------------------------------------------------
// upstream: the offline module source

func runUpstream(args []string) error {
	fset := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := fset.String("addr", "127.0.0.1:0", "loopback address to listen on")
	addrFile := fset.String("addr-file", "", "write the bound address here once listening")
	dir := fset.String("dir", "", "GOPROXY file tree (a GOMODCACHE's cache/download) (required)")
	latency := fset.Duration("latency", 0, "delay added before each response (mimics a WAN round trip)")
	bytesPerSec := fset.Int64("bandwidth", 0, "bytes per second per response (0 = unlimited)")
	_ = fset.Parse(args)
	if *dir == "" {
		return errors.New("upstream needs -dir")
	}
	root, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	st := newStats()
	mux := http.NewServeMux()
	mux.HandleFunc("/_modcast/stats", st.serveHTTP)
	mux.HandleFunc("/", func(rw http.ResponseWriter, req *http.Request) {
		st.begin()
		cw := &countingWriter{ResponseWriter: rw}
		defer func() { st.end(req.URL.Path, cw.bytes) }()
		if *latency > 0 {
			select {
			case <-time.After(*latency):
			case <-req.Context().Done():
				return
			}
		}
		clean := path.Clean("/" + req.URL.Path)
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			http.Error(cw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(clean)))
		if err != nil {
			http.Error(cw, "not found", http.StatusNotFound)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || fi.IsDir() {
			http.Error(cw, "not found", http.StatusNotFound)
			return
		}
		cw.Header().Set("Content-Length", fmt.Sprint(fi.Size()))
		cw.WriteHeader(http.StatusOK)
		if req.Method == http.MethodHead {
			return
		}
		copyPaced(req.Context(), cw, f, *bytesPerSec)
	})
	ln, err := listenLoopback(*addr, *addrFile)
	if err != nil {
		return err
	}
	return serveUntilSignal(ln, mux)
}

// copyPaced copies src to dst, at most bytesPerSec when positive.
func copyPaced(ctx context.Context, dst io.Writer, src io.Reader, bytesPerSec int64) {
	if bytesPerSec <= 0 {
		_, _ = io.Copy(dst, src)
		return
	}
	chunk := bytesPerSec / 20
	if chunk < 1024 {
		chunk = 1024
	}
	buf := make([]byte, chunk)
	start := time.Now()
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
			due := start.Add(time.Duration(float64(sent) / float64(bytesPerSec) * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
