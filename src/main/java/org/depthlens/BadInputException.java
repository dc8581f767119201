package org.depthlens;

/**
 * A problem with what the user gave us (a file, a tensor, a key, an option value).
 * The CLI prints {@link #getMessage()} as one line and exits with {@link ExitCodes#BAD_INPUT}.
 * Messages name the file and, where it applies, the tensor, key or option.
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
