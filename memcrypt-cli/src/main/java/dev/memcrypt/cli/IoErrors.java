package dev.memcrypt.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * File errors as the shell prints them ("No such file or directory", the strerror text of the
 * errno), not as Java names them (a NoSuchFileException's message is only the path).
 */
final class IoErrors {
    private IoErrors() {}

    /** The strerror-style reason of {@code e}, without the path. */
    static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "No such file or directory";
            case AccessDeniedException x -> "Permission denied";
            case FileAlreadyExistsException x -> "File exists";
            case NotDirectoryException x -> "Not a directory";
            case DirectoryNotEmptyException x -> "Directory not empty";
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }

    static String reason(UncheckedIOException e) {
        return reason(e.getCause());
    }

    /** The path an exception names, when it names one. */
    static String file(IOException e) {
        return e instanceof FileSystemException f ? f.getFile() : null;
    }

    /**
     * Strict UTF-8: a script is text, so a byte that is not UTF-8 is an error naming its offset and
     * line (the bytes themselves are not shown: a binary file may hold key material).
     */
    static String utf8(byte[] bytes) throws IOException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8L, bytes.length + 1L));
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) r = d.flush(out);
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            for (int i = 0; i < at; i++) if (bytes[i] == '\n') line++;
            throw new IOException("not UTF-8 text (invalid byte at offset " + at + ", line " + line + ")");
        }
        return out.flip().toString();
    }
}
