package dev.goodput.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A sequence of blocks whose image input is laid out channels-last (NHWC in memory, still indexed N, C, H, W) before
 * its first block. On the CPU, libtorch's oneDNN convolution picks its channels-last kernels when its input is laid out
 * so, and every op after it (batch norm, ReLU, max-pool, the next convolution) keeps that layout, with vectorised
 * kernels over the channels: the built-in CNN's b128 step took 27-32 ms instead of 49-60 ms with the layout in PyTorch
 * 2.7.1, and 30-31 ms instead of 43-48 ms in the trainer, on this project's 2-core machine (docs/trainer.md, Channels-last convolutions). The parameters keep their own layout, so the optimizer,
 * checkpoints and gradients are untouched; only activations change layout, and the values computed are the same ops'.
 *
 * <p>The children and so the parameter names are a plain {@link SequentialBlock}'s: checkpoints written before the
 * layout existed load as they did.
 */
public class ChannelsLastSequential extends SequentialBlock {

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.head();
        if (x.getShape().dimension() != 4) {
            return super.forwardInternal(parameterStore, inputs, training, params);
        }
        NDList laidOut = new NDList(channelsLast(x));
        for (int i = 1; i < inputs.size(); i++) laidOut.add(inputs.get(i));
        return super.forwardInternal(parameterStore, laidOut, training, params);
    }

    /**
     * {@code x} (N, C, H, W) with channels-last strides (HWC, 1, WC, C). DJL has no memory-format operation, so it is
     * made from views and at most one copy: permuted to (N, H, W, C), copied contiguous by reshape, permuted back. With
     * one channel the bytes are the same in either layout, but the channel's stride must still be 1, or libtorch takes
     * the ambiguous layout for NCHW: the channel is dropped and added back last (unsqueeze gives a trailing dimension
     * stride 1), with no copy.
     */
    public static NDArray channelsLast(NDArray x) {
        var s = x.getShape();
        long n = s.get(0), c = s.get(1), h = s.get(2), w = s.get(3);
        if (c == 1) {
            return x.reshape(n, h, w).expandDims(3).transpose(0, 3, 1, 2);
        }
        return x.transpose(0, 2, 3, 1).reshape(n, h, w, c).transpose(0, 3, 1, 2);
    }
}
