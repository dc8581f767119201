package org.depthlens.model;

/** The two sublayers of a decoder block; a sublayer removal branch replaces one's output by zero. */
public enum Sublayer {
    ATTENTION,
    MLP
}
