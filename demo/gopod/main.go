// A StreamGate pod written in Go, standard library only: a small routing service with real CPU work,
// exposing net/http/pprof (and expvar's /debug/vars: memstats, goroutines) so the fleet has genuine Go profiles. It has no NATS client (none is available
// offline here); `sg fleet up` registers it for discovery and relays its profiles over NATS.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"expvar"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

type route struct {
	Tenant string  `json:"tenant"`
	Stream string  `json:"stream"`
	Weight float64 `json:"weight"`
}

var (
	mu     sync.Mutex
	routes = map[string][]route{}
)

// scoreRoutes ranks candidate routes: deliberately CPU-heavy so profiles have a clear hot function.
func scoreRoutes(key string, n int) []route {
	out := make([]route, 0, n)
	for i := 0; i < n; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", key, i)))
		w := 0.0
		for _, b := range sum {
			w += math.Sqrt(float64(b) + 1)
		}
		out = append(out, route{Tenant: key, Stream: hex.EncodeToString(sum[:4]), Weight: w})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Weight > out[b].Weight })
	return out
}

func handleRoute(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/v1/route/")
	if key == "" {
		http.Error(w, "missing key", http.StatusBadRequest)
		return
	}
	ranked := scoreRoutes(key, 2000)
	mu.Lock()
	routes[key] = ranked[:10]
	mu.Unlock()
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(ranked[:10])
}

func background() {
	tenants := []string{"acme", "globex", "initech", "umbrella", "hooli"}
	for i := 0; ; i++ {
		scoreRoutes(tenants[i%len(tenants)], 500)
		time.Sleep(20 * time.Millisecond)
	}
}

func main() {
	pod := flag.String("pod", "go-1", "pod id")
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any free port)")
	flag.Parse()

	http.HandleFunc("/v1/route/", handleRoute)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		fmt.Fprintf(w, `{"pod":%q}`, *pod)
	})
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	expvar.Publish("goroutines", expvar.Func(func() interface{} { return runtime.NumGoroutine() }))
	go background()
	ready, _ := json.Marshal(map[string]interface{}{"pod": *pod, "port": listener.Addr().(*net.TCPAddr).Port})
	fmt.Fprintf(os.Stdout, "GATEWAY_READY %s\n", ready)
	log.Fatal(http.Serve(listener, nil))
}
