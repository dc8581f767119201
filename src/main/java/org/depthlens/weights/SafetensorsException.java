package org.depthlens.weights;

import org.depthlens.BadInputException;

/** The loader's only error type: a malformed, truncated or inconsistent safetensors file or index. */
public class SafetensorsException extends BadInputException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
