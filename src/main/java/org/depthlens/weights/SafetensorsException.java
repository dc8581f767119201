package org.depthlens.weights;

import org.depthlens.BadInputException;

/** The loader's only error type: a malformed, truncated, inconsistent or hostile weights file (safetensors or PyTorch .bin) or index. */
public class SafetensorsException extends BadInputException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
