package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.util.Pair;

/**
 * A block whose parameters are named as PyTorch names a module's state: child names joined by dots
 * ({@code encoder.layer.0.attention.self.query.weight}), with no numbering. DJL would name that parameter
 * {@code 02encoder.layer.0_01attention.self.query_weight}; the PyTorch names let pretrained weights load by name and
 * make checkpoints and exports readable next to the Hugging Face files they came from.
 *
 * <p>Every block in this package knows its parameters' shapes from the config, so children are initialised with the
 * parent's input shapes unchanged and use them for nothing.
 */
abstract class DottedNameBlock extends AbstractBlock {

    /** Adds a child under exactly {@code name} (DJL's addChildBlock would prefix its position). */
    protected final <B extends Block> B addNamedChild(String name, B block) {
        children.add(name, block);
        return block;
    }

    @Override
    public ParameterList getParameters() {
        ParameterList all = getDirectParameters();
        for (Pair<String, Block> child : getChildren()) {
            for (Pair<String, Parameter> p : child.getValue().getParameters()) {
                all.add(child.getKey() + "." + p.getKey(), p.getValue());
            }
        }
        return all;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Pair<String, Block> child : getChildren()) child.getValue().initialize(manager, dataType, inputShapes);
    }
}
