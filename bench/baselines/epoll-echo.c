/* Baseline: the machine's ceiling. A single-threaded, non-blocking epoll echo server in C.
 * It skips the PROXY header (v1 line or v2 binary, trusted as is), then writes back whatever it
 * reads; it knows nothing of lines or `q`, and closes when the client ends its side.
 * Usage: epoll-echo [--port N]   (prints "listening on port N" once listening on 127.0.0.1) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define HEADER_MAX 600

struct conn {
  int in_header;           /* still reading the PROXY header */
  size_t have;             /* header bytes so far */
  unsigned char head[HEADER_MAX];
  unsigned char *pending;  /* echo bytes the socket did not take yet */
  size_t pending_len;
};

static struct conn *conns[MAX_FDS];
static unsigned char buf[65536];

/* Complete header length, 0 while incomplete, -1 if it is not a header. */
static long header_length(const unsigned char *p, size_t n) {
  if (n == 0) return 0;
  if (p[0] == 0x0d) {
    if (n < 16) return 0;
    size_t total = 16 + ((size_t)p[14] << 8 | p[15]);
    if (total > HEADER_MAX) return -1;
    return n >= total ? (long)total : 0;
  }
  for (size_t i = 0; i < n && i < 107; i++)
    if (p[i] == '\n') return (long)i + 1;
  return n >= 107 ? -1 : 0;
}

static void drop(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  if (conns[fd]) free(conns[fd]->pending);
  free(conns[fd]);
  conns[fd] = NULL;
}

/* Writes what it can; keeps the rest and waits for EPOLLOUT. Returns -1 on a dead socket. */
static int send_all(int ep, int fd, struct conn *c, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return -1;
      c->pending = realloc(c->pending, c->pending_len + n);
      memcpy(c->pending + c->pending_len, p, n);
      c->pending_len += n;
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
      epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      return 0;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void on_readable(int ep, int fd, struct conn *c) {
  for (;;) {
    if (c->pending_len > 0) return; /* backpressure: read again once the echo drained */
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0) return drop(ep, fd);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) drop(ep, fd);
      return;
    }
    const unsigned char *p = buf;
    size_t n = (size_t)r;
    if (c->in_header) {
      size_t take = n < HEADER_MAX - c->have ? n : HEADER_MAX - c->have;
      memcpy(c->head + c->have, p, take);
      long len = header_length(c->head, c->have + take);
      if (len < 0 || (len == 0 && c->have + take == HEADER_MAX)) return drop(ep, fd);
      if (len == 0) {
        c->have += take;
        continue;
      }
      size_t used = (size_t)len - c->have; /* bytes of this read that belonged to the header */
      c->in_header = 0;
      p += used;
      n -= used;
    }
    if (n > 0 && send_all(ep, fd, c, p, n) < 0) return drop(ep, fd);
  }
}

static void on_writable(int ep, int fd, struct conn *c) {
  size_t done = 0;
  while (done < c->pending_len) {
    ssize_t w = write(fd, c->pending + done, c->pending_len - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return drop(ep, fd);
      break;
    }
    done += (size_t)w;
  }
  memmove(c->pending, c->pending + done, c->pending_len - done);
  c->pending_len -= done;
  if (c->pending_len == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    on_readable(ep, fd, c);
  }
}

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 511) < 0) {
    perror("epoll-echo: listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(ls, (struct sockaddr *)&addr, &alen);
  printf("listening on port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event events[512];
  for (;;) {
    int n = epoll_wait(ep, events, 512, -1);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == ls) {
        int cfd;
        while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (cfd >= MAX_FDS) {
            close(cfd);
            continue;
          }
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[cfd] = calloc(1, sizeof(struct conn));
          conns[cfd]->in_header = 1;
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        }
        continue;
      }
      struct conn *c = conns[fd];
      if (!c) continue;
      if (events[i].events & EPOLLOUT) on_writable(ep, fd, c);
      else on_readable(ep, fd, c);
    }
  }
}
