package org.depthlens.pass;

import org.depthlens.model.Model;

import java.io.Serializable;

/**
 * The options a run's planner request is built from. A request holds live probes, so it does not travel; its
 * options do, whole (Java serialisation), and every worker that opens the model (a Spark executor) builds the
 * same request from them.
 */
public interface RequestOptions extends Serializable {
    Passes.Request request(Model model);
}
