/* The comparison's load generator: a single-threaded epoll client in C, so that the generator is
 * never the limit. Every client sends a PROXY v1 header first, then lines of --line-bytes (CR LF
 * included, numbered), one line outstanding, each echo checked byte for byte; it ends with `q`.
 *   pingpong  --clients N send the next line as soon as the echo is back;
 *   connect   --clients N in flight: header, one line, `q`, wait for the close, again;
 *   hold      --clients N connect, get one line echoed, then stay idle.
 * --trickle R (pingpong) adds R new clients per second that each time connect to first echo.
 * Phases: ramp (every client connected and answered once, at most --ramp-ms), then the measured
 * window (--duration-ms, or until --count lines/connections, or SIGTERM). stdout gets a line
 * {"phase":"measure"} when the window opens and one JSON report when it closes.
 * Only loopback targets (127.0.0.0/8): every load loop here is bounded in count and time. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum scenario { PINGPONG, CONNECT, HOLD };
enum state { CONNECTING, ECHOING, IDLE, QUITTING };
enum error { E_REFUSED, E_RESET, E_TIMEOUT, E_WRONG, E_EARLY, E_NOPORT, E_FDLIMIT, E_OTHER, E_KINDS };
static const char *error_names[E_KINDS] = {"refused",      "reset",          "timeout",
                                            "wrong-echo",   "closed-early",   "no-source-port",
                                            "fd-limit",     "other"};

#define LINE_MAX_BYTES 4096
#define CLIENTS_PER_SOURCE 5000 /* a source address's port search slows as it fills up */
#define TRICKLE_TIMEOUT_NS 5000000000LL

struct client {
  int fd;
  enum state state;
  int trickle;          /* a trickle client: times connect-to-first-echo, then quits */
  uint32_t index;       /* global number: header address, line letters, source address */
  uint32_t line_no;
  uint32_t generation;  /* tells this connection's epoll events from a later one's on the same fd */
  size_t matched;       /* bytes of the current echo verified */
  int64_t since;        /* start of the current wait (ns) */
  int64_t connect_at;
  unsigned char line[LINE_MAX_BYTES];
};

/* Latency histogram: exact below 1024 µs, then 64 sub-buckets per power of two (~1.5%). */
#define HBUCKETS (1024 + 64 * 40)
struct histogram {
  uint64_t counts[HBUCKETS];
  uint64_t total;
  int64_t max;
};

static struct {
  enum scenario scenario;
  const char *host;
  int port, clients, line_bytes, sources;
  int64_t duration_ns, ramp_ns, timeout_ns;
  long count;
  int trickle_rate;
} opt = {PINGPONG, "127.0.0.1", 0, 1000, 16, 1, 3000000000LL, 30000000000LL, 5000000000LL, 0, 0};

static int ep;
static struct client **by_fd;
static int fd_capacity;
static unsigned char rbuf[65536];
static uint32_t next_index, generation;
static int connecting, open_clients, stopping;
static volatile sig_atomic_t interrupted;
static int measuring;
static struct {
  uint64_t lines, connections, answered, trickled, trickle_timeouts, trickle_pending, errors[E_KINDS];
} window, all;
static struct histogram latency, trickle_latency;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return ((int64_t)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL +
         ((int64_t)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

static int bucket_of(int64_t us) {
  if (us < 1024) return (int)(us < 0 ? 0 : us);
  int exp = 63 - __builtin_clzll((uint64_t)us); /* >= 10 */
  int sub = (int)((us >> (exp - 6)) & 63);
  int b = 1024 + (exp - 10) * 64 + sub;
  return b < HBUCKETS ? b : HBUCKETS - 1;
}

static int64_t bucket_value(int b) {
  if (b < 1024) return b;
  int exp = (b - 1024) / 64 + 10, sub = (b - 1024) % 64;
  return ((int64_t)1 << exp) + ((int64_t)sub << (exp - 6));
}

static void record(struct histogram *h, int64_t ns) {
  int64_t us = ns / 1000;
  h->counts[bucket_of(us)]++;
  h->total++;
  if (us > h->max) h->max = us;
}

static int64_t percentile(const struct histogram *h, double q) {
  if (h->total == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)h->total), seen = 0;
  for (int b = 0; b < HBUCKETS; b++)
    if ((seen += h->counts[b]) > rank) return bucket_value(b);
  return h->max;
}

static void count_error(enum error kind) {
  all.errors[kind]++;
  if (measuring) window.errors[kind]++;
}

static enum error kind_of(int err) {
  switch (err) {
  case ECONNREFUSED: return E_REFUSED;
  case ECONNRESET: case EPIPE: return E_RESET;
  case ETIMEDOUT: return E_TIMEOUT;
  case EADDRNOTAVAIL: case EADDRINUSE: return E_NOPORT;
  case EMFILE: case ENFILE: return E_FDLIMIT;
  default: return E_OTHER;
  }
}

/* The client's line: digits (its number) at the front, letters after, CR LF. */
static void number_line(struct client *c) {
  int letters = opt.line_bytes - 2, digits = letters < 8 ? letters : 8;
  uint32_t n = c->line_no++;
  for (int i = digits - 1; i >= 0; i--, n /= 10) c->line[i] = (unsigned char)('0' + n % 10);
}

static void init_line(struct client *c) {
  int letters = opt.line_bytes - 2;
  for (int i = 0; i < letters; i++) c->line[i] = (unsigned char)('a' + (c->index + i) % 26);
  c->line[letters] = '\r';
  c->line[letters + 1] = '\n';
}

/* A balancer's header for client `index`: an address in 52.0.0.0/8, a port, the listener. */
static int header_for(uint32_t index, char *out, size_t size) {
  uint32_t mixed = ((index + 1) * 0x9e3779b1u) & 0xffffff;
  return snprintf(out, size, "PROXY TCP4 52.%u.%u.%u 10.0.11.239 %u 5000\r\n", mixed >> 16,
                  (mixed >> 8) & 0xff, mixed & 0xff, 1024 + (index * 7919u) % 64511u);
}

static void forget(struct client *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  by_fd[c->fd] = NULL;
  open_clients--;
  if (c->state == CONNECTING || (c->state == ECHOING && c->line_no == 1)) connecting--;
}

static void start_client(struct client *c);

/* The connection is over (done or failed); in connect, its slot starts the next one. */
static void finish(struct client *c) {
  forget(c);
  int again = !stopping && !c->trickle && opt.scenario == CONNECT;
  if (again) {
    c->index = next_index++;
    start_client(c);
  } else {
    free(c);
  }
}

static void fail(struct client *c, enum error kind) {
  count_error(kind);
  finish(c);
}

static void watch(struct client *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)c->generation << 32 | (uint32_t)c->fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int send_bytes(struct client *c, const void *p, size_t n) {
  ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
  if (w == (ssize_t)n) return 0;
  fail(c, w < 0 ? kind_of(errno) : E_OTHER); /* one short line never fills a socket buffer */
  return -1;
}

static void send_line(struct client *c, int64_t now) {
  number_line(c);
  c->matched = 0;
  c->since = now;
  c->state = ECHOING;
  send_bytes(c, c->line, (size_t)opt.line_bytes);
}

static void quit(struct client *c, int64_t now) {
  c->state = QUITTING;
  c->since = now;
  if (send_bytes(c, "q\r\n", 3) == 0) shutdown(c->fd, SHUT_WR);
}

/* Connected: the header and the first line in one segment, as a balancer forwards them. */
static void on_connected(struct client *c, int64_t now) {
  char out[LINE_MAX_BYTES + 128];
  int n = header_for(c->index, out, 128);
  number_line(c);
  memcpy(out + n, c->line, (size_t)opt.line_bytes);
  c->matched = 0;
  c->since = now;
  c->state = ECHOING;
  watch(c, EPOLLIN);
  send_bytes(c, out, (size_t)n + (size_t)opt.line_bytes);
}

static void start_client(struct client *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    count_error(kind_of(errno));
    free(c);
    return;
  }
  if (fd >= fd_capacity) {
    close(fd);
    count_error(E_FDLIMIT);
    free(c);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  inet_pton(AF_INET, opt.host, &to.sin_addr);
  if (opt.sources > 1) {
    /* Past one address's ports: bind 127.0.0.2, .3, … and let connect() pick the port. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(0x7f000002u + (c->index / CLIENTS_PER_SOURCE) % opt.sources);
    bind(fd, (struct sockaddr *)&from, sizeof from);
  }
  init_line(c);
  c->fd = fd;
  c->line_no = 0;
  c->state = CONNECTING;
  c->connect_at = c->since = now_ns();
  by_fd[fd] = c;
  open_clients++;
  connecting++;
  c->generation = ++generation;
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)c->generation << 32 | (uint32_t)fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)
    fail(c, kind_of(errno));
}

static struct client *new_client(int trickle) {
  struct client *c = calloc(1, sizeof *c);
  c->trickle = trickle;
  c->index = next_index++;
  return c;
}

/* A verified echo: what the client does next depends on the scenario. */
static void on_echo(struct client *c, int64_t now) {
  if (c->line_no == 1) {
    connecting--;
    all.answered++;
    if (measuring) window.answered++;
  }
  if (c->trickle) {
    record(&trickle_latency, now - c->connect_at);
    window.trickled++;
    return quit(c, now);
  }
  if (opt.scenario == CONNECT) {
    if (measuring) record(&latency, now - c->connect_at);
    return quit(c, now);
  }
  if (measuring) {
    record(&latency, now - c->since);
    window.lines++;
  }
  all.lines++;
  if (opt.scenario == HOLD || stopping) {
    c->state = IDLE;
    c->since = now;
    return;
  }
  send_line(c, now);
}

static void on_readable(struct client *c) {
  ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) fail(c, kind_of(errno));
    return;
  }
  if (c->state == QUITTING) {
    /* Servers that know nothing of `q` echo it back; only the close matters. */
    if (r > 0) return;
    if (opt.scenario == CONNECT && measuring && !c->trickle) window.connections++;
    all.connections++;
    return finish(c);
  }
  if (r == 0) return fail(c, E_EARLY);
  if (c->state != ECHOING) return fail(c, E_WRONG); /* bytes nobody asked for */
  for (ssize_t i = 0; i < r; i++) {
    if (rbuf[i] != c->line[c->matched]) return fail(c, E_WRONG);
    if (++c->matched == (size_t)opt.line_bytes) {
      if (i + 1 < r) return fail(c, E_WRONG); /* more bytes than were sent */
      return on_echo(c, now_ns());
    }
  }
}

static void on_event(struct client *c, uint32_t events) {
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c, kind_of(err));
    return on_connected(c, now_ns());
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
}

/* Clients waiting on the server longer than the timeout fail; trickle clients count apart. */
static void sweep(int64_t now) {
  for (int fd = 0; fd < fd_capacity; fd++) {
    struct client *c = by_fd[fd];
    if (c == NULL || c->state == IDLE) continue;
    if (c->trickle && now - c->connect_at > TRICKLE_TIMEOUT_NS) {
      record(&trickle_latency, now - c->connect_at);
      window.trickle_timeouts++;
      forget(c);
      free(c);
    } else if (!c->trickle && now - c->since > opt.timeout_ns) {
      fail(c, E_TIMEOUT);
    }
  }
}

/* Trickle clients still waiting when the window closes count with their wait so far (a lower bound). */
static void settle_trickles(int64_t now) {
  for (int fd = 0; fd < fd_capacity; fd++) {
    struct client *c = by_fd[fd];
    if (c == NULL || !c->trickle || c->state == QUITTING) continue;
    record(&trickle_latency, now - c->connect_at);
    window.trickle_pending++;
  }
}

static void close_all(void) {
  stopping = 1;
  for (int fd = 0; fd < fd_capacity; fd++)
    if (by_fd[fd] != NULL) {
      struct client *c = by_fd[fd];
      forget(c);
      free(c);
    }
}

static void loop_until(int64_t end, int (*done)(void), int64_t now) {
  struct epoll_event events[512];
  int64_t next_sweep = now + 100000000LL, next_trickle = now;
  while (!interrupted && now < end && !done()) {
    int n = epoll_wait(ep, events, 512, 10);
    for (int i = 0; i < n; i++) {
      /* A client closed earlier in this batch may have been freed, its fd reused: match both. */
      struct client *c = by_fd[(uint32_t)events[i].data.u64];
      if (c != NULL && c->generation == events[i].data.u64 >> 32) on_event(c, events[i].events);
    }
    now = now_ns();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + 100000000LL;
    }
    while (measuring && opt.trickle_rate > 0 && now >= next_trickle) {
      start_client(new_client(1));
      next_trickle += 1000000000LL / opt.trickle_rate;
    }
  }
}

static uint64_t error_total(void) {
  uint64_t n = 0;
  for (int k = 0; k < E_KINDS; k++) n += all.errors[k];
  return n;
}
/* Every client answered once or failed (pingpong and hold clients that fail stay gone). */
static int ramped(void) { return all.answered + error_total() >= (uint64_t)opt.clients; }
static int counted(void) {
  if (opt.count <= 0) return 0;
  return (long)(opt.scenario == CONNECT ? window.connections : window.lines) >= opt.count;
}

static void report(double seconds, double busy, int up) {
  printf("{\"phase\":\"done\",\"scenario\":\"%s\",\"clients\":%d,\"up\":%d,\"seconds\":%.4f,",
         opt.scenario == PINGPONG ? "pingpong" : opt.scenario == CONNECT ? "connect" : "hold",
         opt.clients, up, seconds);
  printf("\"lines\":%llu,\"linesPerSecond\":%.1f,\"connections\":%llu,\"connectionsPerSecond\":%.1f,",
         (unsigned long long)window.lines, window.lines / seconds,
         (unsigned long long)window.connections, window.connections / seconds);
  printf("\"latencyUs\":{\"p50\":%lld,\"p90\":%lld,\"p99\":%lld,\"max\":%lld,\"samples\":%llu},",
         (long long)percentile(&latency, 0.5), (long long)percentile(&latency, 0.9),
         (long long)percentile(&latency, 0.99), (long long)latency.max,
         (unsigned long long)latency.total);
  printf("\"trickle\":{\"p50Us\":%lld,\"p99Us\":%lld,\"maxUs\":%lld,\"answered\":%llu,\"timeouts\":%llu,\"pending\":%llu},",
         (long long)percentile(&trickle_latency, 0.5), (long long)percentile(&trickle_latency, 0.99),
         (long long)trickle_latency.max, (unsigned long long)window.trickled,
         (unsigned long long)window.trickle_timeouts,
         (unsigned long long)window.trickle_pending);
  printf("\"generatorBusy\":%.4f,\"errors\":{", busy);
  int first = 1;
  for (int k = 0; k < E_KINDS; k++)
    if (all.errors[k] > 0) {
      printf("%s\"%s\":%llu", first ? "" : ",", error_names[k], (unsigned long long)all.errors[k]);
      first = 0;
    }
  printf("},\"wrongEchoes\":%llu}\n", (unsigned long long)all.errors[E_WRONG]);
  fflush(stdout);
}

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static int64_t ms_arg(const char *v) { return (int64_t)atol(v) * 1000000LL; }

static int parse_args(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--host")) opt.host = v;
    else if (!strcmp(k, "--port")) opt.port = atoi(v);
    else if (!strcmp(k, "--clients")) opt.clients = atoi(v);
    else if (!strcmp(k, "--line-bytes")) opt.line_bytes = atoi(v);
    else if (!strcmp(k, "--duration-ms")) opt.duration_ns = ms_arg(v);
    else if (!strcmp(k, "--ramp-ms")) opt.ramp_ns = ms_arg(v);
    else if (!strcmp(k, "--timeout-ms")) opt.timeout_ns = ms_arg(v);
    else if (!strcmp(k, "--count")) opt.count = atol(v);
    else if (!strcmp(k, "--first-index")) next_index = (uint32_t)atol(v);
    else if (!strcmp(k, "--trickle")) opt.trickle_rate = atoi(v);
    else if (!strcmp(k, "--scenario"))
      opt.scenario = !strcmp(v, "connect") ? CONNECT : !strcmp(v, "hold") ? HOLD : PINGPONG;
    else return fprintf(stderr, "epoll-load: unknown option %s\n", k), -1;
  }
  struct in_addr a;
  if (inet_pton(AF_INET, opt.host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
    return fprintf(stderr, "epoll-load: only 127.0.0.0/8 targets\n"), -1;
  if (opt.port <= 0 || opt.clients <= 0 || opt.line_bytes < 3 || opt.line_bytes > LINE_MAX_BYTES ||
      opt.duration_ns <= 0 || opt.duration_ns > 600000000000LL || opt.ramp_ns > 120000000000LL)
    return fprintf(stderr, "epoll-load: bad --port, --clients, --line-bytes or --duration-ms\n"), -1;
  /* Churn and large runs spread over source addresses (each has ~28k ephemeral ports). */
  if (opt.scenario == CONNECT || opt.clients > 20000)
    opt.sources = opt.scenario == CONNECT ? 8 : (opt.clients + CLIENTS_PER_SOURCE - 1) / CLIENTS_PER_SOURCE;
  return 0;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) < 0) return 2;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  fd_capacity = (int)(lim.rlim_cur > 1048576 ? 1048576 : lim.rlim_cur);
  by_fd = calloc((size_t)fd_capacity, sizeof *by_fd);
  ep = epoll_create1(0);
  /* Ramp: at most 200 connects in flight (each until its first echo), so no backlog overflows. */
  int64_t now = now_ns(), ramp_end = now + opt.ramp_ns;
  int started = 0;
  while (!interrupted && !ramped() && now < ramp_end) {
    int in_flight = opt.scenario == CONNECT ? opt.clients : 200;
    for (; started < opt.clients && connecting < in_flight; started++) start_client(new_client(0));
    loop_until(now + 20000000LL, ramped, now);
    now = now_ns();
  }
  for (; started < opt.clients; started++) start_client(new_client(0)); /* ramp limit hit */
  memset(&latency, 0, sizeof latency);
  measuring = 1;
  printf("{\"phase\":\"measure\",\"up\":%d}\n", open_clients);
  fflush(stdout);
  int64_t start = now_ns(), cpu0 = cpu_ns();
  loop_until(start + opt.duration_ns, counted, start);
  int64_t end = now_ns();
  double seconds = (double)(end - start) / 1e9, busy = (double)(cpu_ns() - cpu0) / (double)(end - start);
  int up = 0;
  for (int fd = 0; fd < fd_capacity; fd++) up += by_fd[fd] != NULL && !by_fd[fd]->trickle;
  measuring = 0;
  settle_trickles(end);
  report(seconds, busy, up);
  close_all();
  return 0;
}
