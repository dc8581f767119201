package org.depthlens;

/**
 * The run was interrupted (Ctrl-C / SIGINT) and its output discarded. The CLI exits with
 * {@link ExitCodes#INTERRUPTED}; the message for the user is printed by the interrupt handler.
 */
public class RunInterruptedException extends RuntimeException {
    public RunInterruptedException(String message) {
        super(message);
    }
}
