/*
 * LD_PRELOAD for the lab's User-Mode Linux kernel on CPUs with dynamically enabled XSAVE state
 * (Intel AMX). Debian's UML 6.1 (and 6.12) moves a guest process's FP registers with
 * PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) and a buffer of the non-dynamic XSAVE size (2696 bytes
 * with AVX-512), while the host kernel's xstateregs_set() accepts only a buffer of exactly the
 * largest size (11008 bytes with AMX) and answers EFAULT otherwise: the guest panics at its first
 * process ("ptrace set fp regs failed, errno = 14"). This wraps those two requests: it reads the
 * whole state into a buffer of the host's size, hands UML the part it asked for, and on a write puts
 * UML's part over the whole state before writing it back. Every other ptrace request, and a buffer
 * already of the host's size, passes through unchanged. lab/lab.sh builds and uses it only on such CPUs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Larger than any XSAVE area an x86 host has today (AMX: 11008 bytes). */
#define WHOLE_SIZE (64 * 1024)

typedef long (*ptrace_fn)(int, pid_t, void *, void *);
static ptrace_fn real_ptrace;

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (real_ptrace == NULL) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) || (long)addr != NT_X86_XSTATE)
    return real_ptrace(request, pid, addr, data);

  struct iovec *part = data;
  unsigned char *whole = malloc(WHOLE_SIZE);
  if (whole == NULL) {
    errno = ENOMEM;
    return -1;
  }
  struct iovec all = { whole, WHOLE_SIZE };
  long ret = real_ptrace(PTRACE_GETREGSET, pid, addr, &all);
  if (ret == 0 && all.iov_len > part->iov_len) {
    if (request == PTRACE_GETREGSET) {
      memcpy(part->iov_base, whole, part->iov_len);
    } else {
      memcpy(whole, part->iov_base, part->iov_len);
      ret = real_ptrace(PTRACE_SETREGSET, pid, addr, &all);
    }
  } else {
    ret = real_ptrace(request, pid, addr, data);
  }
  int saved = errno;
  free(whole);
  errno = saved;
  return ret;
}
