package dev.goodput.trainer.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/**
 * ResNets (He et al. 2016). {@link #cifar} is the 6n+2 family for small images (ResNet-20: n = 3, widths 16/32/64);
 * {@link #imagenet} is ResNet-18 (basic blocks) and ResNet-50 (bottlenecks) with the 7x7 stem, for GPU jobs.
 */
public final class ResNetBuilder {
    private ResNetBuilder() {}

    public static Block cifar(int depth, int width, int classes) {
        return cifar(depth, width, classes, layoutFor(width));
    }

    /** The CIFAR ResNet built into {@code net}, whose class decides the layout (tests compare the two). */
    static Block cifar(int depth, int width, int classes, SequentialBlock net) {
        if ((depth - 2) % 6 != 0) throw new IllegalArgumentException("spec.model: CIFAR ResNet depth must be 6n+2, got " + depth);
        int n = (depth - 2) / 6;
        net.add(conv(width, 3, 1)).add(bn()).add(Activation.reluBlock());
        int in = width;
        for (int stage = 0; stage < 3; stage++) {
            int out = width << stage;
            for (int b = 0; b < n; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                net.add(basic(out, stride, stride != 1 || in != out));
                in = out;
            }
        }
        return net.add(Pool.globalAvgPool2dBlock()).add(Linear.builder().setUnits(classes).build());
    }

    public static Block imagenet(int depth, int width, int classes) {
        int[] units = switch (depth) {
            case 18 -> new int[] {2, 2, 2, 2};
            case 50 -> new int[] {3, 4, 6, 3};
            default -> throw new IllegalArgumentException("spec.model: ImageNet ResNet depth must be 18 or 50, got " + depth);
        };
        boolean bottleneck = depth >= 50;
        SequentialBlock net = layoutFor(width)
                .add(conv(width, 7, 2)).add(bn()).add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
        int in = width;
        for (int stage = 0; stage < 4; stage++) {
            int out = (width << stage) * (bottleneck ? 4 : 1);
            for (int b = 0; b < units[stage]; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                boolean project = stride != 1 || in != out;
                net.add(bottleneck ? bottleneck(width << stage, out, stride, project) : basic(out, stride, project));
                in = out;
            }
        }
        return net.add(Pool.globalAvgPool2dBlock()).add(Linear.builder().setUnits(classes).build());
    }

    /**
     * The narrowest width at which a ResNet runs channels-last. The narrowest 1x1 convolution of either family takes
     * {@code width} input channels (the first projection shortcut; ResNet-50's first bottleneck), and libtorch 2.7.1's
     * oneDNN crashes the process in its AVX-512 1x1 weight-gradient kernel on channels-last input with fewer than 16
     * (one 512-bit vector of floats): SIGSEGV, then "double free or corruption", with widths 8 and 12 at 2 to 4
     * threads, never with 16, 20, 24 or 32 (ResNetLayoutTest runs the configurations that crashed).
     */
    static final int MIN_CHANNELS_LAST_WIDTH = 16;

    /**
     * Channels-last (docs/trainer.md) where oneDNN's kernels take it: ResNet-20's b32 step, 58-60 ms in NCHW, takes
     * 44-48 ms; narrower networks stay NCHW. Both hold the same parameters under the same names.
     */
    static SequentialBlock layoutFor(int width) {
        return width >= MIN_CHANNELS_LAST_WIDTH ? new ChannelsLastSequential() : new SequentialBlock();
    }

    private static Block basic(int filters, int stride, boolean project) {
        SequentialBlock main = new SequentialBlock()
                .add(conv(filters, 3, stride)).add(bn()).add(Activation.reluBlock())
                .add(conv(filters, 3, 1)).add(bn());
        return residual(main, shortcut(filters, stride, project));
    }

    private static Block bottleneck(int mid, int out, int stride, boolean project) {
        SequentialBlock main = new SequentialBlock()
                .add(conv(mid, 1, 1)).add(bn()).add(Activation.reluBlock())
                .add(conv(mid, 3, stride)).add(bn()).add(Activation.reluBlock())
                .add(conv(out, 1, 1)).add(bn());
        return residual(main, shortcut(out, stride, project));
    }

    private static Block shortcut(int filters, int stride, boolean project) {
        return project ? new SequentialBlock().add(conv(filters, 1, stride)).add(bn()) : Blocks.identityBlock();
    }

    private static Block residual(Block main, Block shortcut) {
        return new SequentialBlock()
                .add(new ParallelBlock(list -> new NDList(list.get(0).singletonOrThrow().add(list.get(1).singletonOrThrow())),
                        List.of(main, shortcut)))
                .add(Activation.reluBlock());
    }

    private static Block conv(int filters, int kernel, int stride) {
        return Conv2d.builder().setKernelShape(new Shape(kernel, kernel)).optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2)).setFilters(filters).optBias(false).build();
    }

    private static Block bn() {
        return BatchNorm.builder().build();
    }
}
