package dev.goodput.trainer.model.torchscript;

import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a trained TorchScript module as a TorchScript archive (torch.jit.load and DJL read it): the user's code with
 * the trained parameters and buffers, to serve it or to train it further. The archive records the mode the module
 * is in (eval after the run's last evaluation), which torch.jit.load restores; the trainer's loader sets train mode
 * itself. It also keeps the buffer accessor the loader added ({@code goodput_buffers}), which changes nothing else.
 */
public final class ExportedModelWriter {
    private ExportedModelWriter() {}

    /**
     * Writes {@code block} to {@code target} through a temporary file in the same folder, synced and then renamed, so
     * {@code target} is either the previous file or the whole new one. Call it between steps.
     */
    public static void write(PtSymbolBlock block, Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
                // false: a plain archive, without the length prefix DJL's saveParameters puts before it.
                JniUtils.writeModule(block, out, false);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
