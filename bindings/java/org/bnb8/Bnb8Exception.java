package org.bnb8;

import java.nio.charset.StandardCharsets;

/**
 * A failed bnb8 call. {@link #getStatus()} is the library's status code (Bnb8.ERR_INVALID_ARGUMENT,
 * Bnb8.ERR_IO, ...) and the message is the library's, naming the argument and its value, e.g.
 * "bnb_optimizer_create: config->lr = -1 is outside [0, inf)". The binding's own checks of buffers
 * throw it too, with status Bnb8.ERR_INVALID_ARGUMENT, before anything reaches the library.
 */
public class Bnb8Exception extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public Bnb8Exception(int status, String message) {
        super(message);
        this.status = status;
    }

    /** From native code, which hands over the message as UTF-8 bytes (Note [java errors]). */
    Bnb8Exception(int status, byte[] utf8Message) {
        this(status, new String(utf8Message, StandardCharsets.UTF_8));
    }

    /** The bnb_status code of the failure; Bnb8.statusString(code) describes it. */
    public int getStatus() {
        return status;
    }
}
