package dev.memcrypt.kernel;

import dev.memcrypt.util.Outcome;

/**
 * Linux errno values (x86-64 numbers, asm-generic/errno-base.h and errno.h) with glibc's
 * strerror() texts, which is what keyutils prints through perror().
 */
public enum Errno implements Outcome {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EIO(5, "Input/output error"),
    E2BIG(7, "Argument list too long"),
    EBADF(9, "Bad file descriptor"),
    ECHILD(10, "No child processes"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "Too many open files in system"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ERANGE(34, "Numerical result out of range"),
    EDEADLK(35, "Resource deadlock avoided"),
    ENAMETOOLONG(36, "File name too long"),
    ELOOP(40, "Too many levels of symbolic links"),
    EOPNOTSUPP(95, "Operation not supported"),
    EDQUOT(122, "Disk quota exceeded"),
    ENOKEY(126, "Required key not available"),
    EKEYEXPIRED(127, "Key has expired"),
    EKEYREVOKED(128, "Key has been revoked"),
    EKEYREJECTED(129, "Key was rejected by service");

    private final int number;
    private final String message;

    Errno(int number, String message) {
        this.number = number;
        this.message = message;
    }

    /** The positive errno number (a system call returns its negation). */
    public int number() {
        return number;
    }

    /** strerror(3) text, e.g. "Required key not available". */
    public String message() {
        return message;
    }

    @Override
    public String outcomeName() {
        return name();
    }

    public ErrnoException exception() {
        return new ErrnoException(this);
    }

    public static Errno ofNumber(int n) {
        for (Errno e : values()) if (e.number == n) return e;
        throw new IllegalArgumentException("unknown errno " + n);
    }
}
