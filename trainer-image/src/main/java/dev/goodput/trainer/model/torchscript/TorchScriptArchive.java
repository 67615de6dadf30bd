package dev.goodput.trainer.model.torchscript;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The records of a TorchScript archive (what torch.jit.save writes: a zip of one folder holding data.pkl, the module
 * objects; code/, the TorchScript source of their classes; data/, the tensors), held in memory so that the source of
 * a class can be read and replaced before libtorch loads the archive.
 */
public final class TorchScriptArchive {
    private final String folder;
    private final Map<String, byte[]> records;

    private TorchScriptArchive(String folder, Map<String, byte[]> records) {
        this.folder = folder;
        this.records = records;
    }

    /**
     * Reads and checks an archive.
     *
     * @throws UnusableModelException when the file is missing or unreadable, or is not a TorchScript archive
     */
    public static TorchScriptArchive read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UnusableModelException("TorchScript model " + file + " does not exist (or is not a file)");
        }
        Map<String, byte[]> records = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                if (e.isDirectory()) continue;
                records.put(e.getName(), zip.getInputStream(e).readAllBytes());
            }
        } catch (ZipException e) {
            throw new UnusableModelException(file + " is not a TorchScript archive (not a zip file: " + e.getMessage()
                    + "); write the model with torch.jit.script(model).save(path) or torch.jit.trace(...).save(path)", e);
        } catch (IOException e) {
            throw new UnusableModelException("cannot read TorchScript model " + file + ": " + e.getMessage(), e);
        }
        String folder = null;
        for (String name : records.keySet()) {
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                folder = name.substring(0, name.indexOf('/'));
                break;
            }
        }
        if (folder == null) {
            throw new UnusableModelException(file + " is a zip file but not a PyTorch archive (no data.pkl); write the"
                    + " model with torch.jit.script(model).save(path)");
        }
        String code = folder + "/code/";
        if (records.keySet().stream().noneMatch(n -> n.startsWith(code))) {
            // torch.save(model) and torch.save(model.state_dict()) write the same kind of zip, without code.
            throw new UnusableModelException(file + " is a PyTorch archive without TorchScript code: it was written by"
                    + " torch.save (a pickled module or state_dict), which the trainer cannot run. Export the module"
                    + " with torch.jit.script(model).save(path) (see examples/torchscript/export_model.py)");
        }
        return new TorchScriptArchive(folder, records);
    }

    /**
     * The qualified name of the root module's class, e.g. {@code __torch__.FashionCnn}: data.pkl opens (after the
     * protocol header) with a GLOBAL opcode naming it, {@code c<module>\n<name>\n}.
     */
    public String rootClass() {
        byte[] pkl = records.get(folder + "/data.pkl");
        int i = pkl.length > 1 && (pkl[0] & 0xFF) == 0x80 ? 2 : 0;
        if (i >= pkl.length || pkl[i] != 'c') {
            throw new UnusableModelException("data.pkl of the TorchScript archive does not start with the root module's"
                    + " class; is it a TorchScript module (not a function or a plain object)?");
        }
        int moduleEnd = indexOf(pkl, (byte) '\n', i + 1);
        int nameEnd = moduleEnd < 0 ? -1 : indexOf(pkl, (byte) '\n', moduleEnd + 1);
        if (nameEnd < 0) throw new UnusableModelException("data.pkl of the TorchScript archive is truncated");
        String module = new String(pkl, i + 1, moduleEnd - i - 1, StandardCharsets.UTF_8);
        String name = new String(pkl, moduleEnd + 1, nameEnd - moduleEnd - 1, StandardCharsets.UTF_8);
        if (!module.startsWith("__torch__")) {
            throw new UnusableModelException("the archive's root object is " + module + "." + name
                    + ", not a TorchScript module");
        }
        return module + "." + name;
    }

    private static int indexOf(byte[] b, byte value, int from) {
        for (int i = from; i < b.length; i++) if (b[i] == value) return i;
        return -1;
    }

    /** The TorchScript source files by the qualifier they define classes under, e.g. {@code __torch__.torch.nn.modules.conv}. */
    public Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        String code = folder + "/code/";
        records.forEach((name, bytes) -> {
            if (name.startsWith(code) && name.endsWith(".py")) {
                String path = name.substring(code.length(), name.length() - ".py".length());
                sources.put(path.replace('/', '.'), new String(bytes, StandardCharsets.UTF_8));
            }
        });
        return sources;
    }

    /**
     * This archive with the source file of {@code qualifier} replaced. Its debug_pkl (source ranges for error
     * messages, optional for loading) is dropped: the new text would make its offsets wrong.
     */
    public TorchScriptArchive withSource(String qualifier, String text) {
        String name = folder + "/code/" + qualifier.replace('.', '/') + ".py";
        if (!records.containsKey(name)) throw new IllegalArgumentException("no source file " + name);
        Map<String, byte[]> copy = new LinkedHashMap<>(records);
        copy.put(name, text.getBytes(StandardCharsets.UTF_8));
        copy.remove(name + ".debug_pkl");
        return new TorchScriptArchive(folder, copy);
    }

    /** The archive as a zip, its records stored uncompressed as torch.jit.save stores them. */
    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> r : records.entrySet()) {
                ZipEntry e = new ZipEntry(r.getKey());
                CRC32 crc = new CRC32();
                crc.update(r.getValue());
                e.setMethod(ZipEntry.STORED);
                e.setSize(r.getValue().length);
                e.setCompressedSize(r.getValue().length);
                e.setCrc(crc.getValue());
                zip.putNextEntry(e);
                zip.write(r.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
