/* bench:wrap's load for new connections: a single-threaded epoll client in C, so that the
 * server, not the generator, is the busy side. Each of --clients connections in flight writes
 * one request (the PROXY v1 header first unless --no-header) with `Connection: close`, reads
 * the answer to EOF, closes, and starts again, until --ms have passed. stdout gets one JSON
 * line: {"count": answered connections, "failed": others, "cpu": its own CPU seconds}.
 *   http-setup-load --port P [--clients N] [--ms M] [--no-header]
 * Only 127.0.0.1, at most 1024 clients and 10 s: every load loop here is bounded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define MAX_MS 10000
#define MAX_FD 65536

static const char HEADER[] = "PROXY TCP4 203.0.113.7 10.0.0.5 51000 80\r\n";
static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";

static int ep, port;
static char message[sizeof HEADER + sizeof REQUEST];
static size_t message_length;
static long answered, failed;
static unsigned char got_bytes[MAX_FD]; /* an fd's connection has received a byte */

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* A new connection in flight; it waits to be writable, then sends the message. */
static void start(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0 || fd >= MAX_FD) {
    perror("socket");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  got_bytes[fd] = 0;
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The connection on fd is over: counted, closed, and its slot starts the next one. */
static void again(int fd, int ok) {
  if (ok) answered++;
  else failed++;
  close(fd);
  start();
}

static void on_event(int fd, uint32_t events) {
  if (events & EPOLLOUT) {
    if (write(fd, message, message_length) != (ssize_t)message_length) return again(fd, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    return;
  }
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) got_bytes[fd] = 1;
  if (n == 0) again(fd, got_bytes[fd]);
  else if (errno != EAGAIN) again(fd, 0);
}

int main(int argc, char **argv) {
  int clients = 16, header = 1;
  long ms = 2000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--no-header")) header = 0;
    else if (i + 1 < argc && !strcmp(argv[i], "--port")) port = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(argv[i], "--clients")) clients = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(argv[i], "--ms")) ms = atol(argv[++i]);
    else {
      fprintf(stderr, "http-setup-load: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (port <= 0 || port > 65535 || clients < 1 || clients > MAX_CLIENTS || ms < 1 || ms > MAX_MS) {
    fprintf(stderr, "http-setup-load: --port 1..65535, --clients 1..%d, --ms 1..%d\n", MAX_CLIENTS,
            MAX_MS);
    return 2;
  }
  message_length = 0;
  if (header) {
    memcpy(message, HEADER, sizeof HEADER - 1);
    message_length = sizeof HEADER - 1;
  }
  memcpy(message + message_length, REQUEST, sizeof REQUEST - 1);
  message_length += sizeof REQUEST - 1;
  ep = epoll_create1(0);
  for (int i = 0; i < clients; i++) start();
  long long end = now_ms() + ms;
  struct epoll_event events[256];
  while (now_ms() < end) {
    int n = epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < n; i++) on_event(events[i].data.fd, events[i].events);
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
               (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  printf("{\"count\":%ld,\"failed\":%ld,\"cpu\":%.4f}\n", answered, failed, cpu);
  return 0;
}
