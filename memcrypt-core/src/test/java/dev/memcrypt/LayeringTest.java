package dev.memcrypt;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Lower layers never import higher ones:
 * util &lt; crypto &lt; hw &lt; kernel &lt; kvm &lt; lab &lt; tools &lt; script.
 *
 * <p>A plain JUnit test rather than an {@code @ArchTest} field: Surefire 3.5.3 silently skips
 * ArchUnit field rules (TNG/ArchUnit#1442).
 */
class LayeringTest {
    private static final String[] ORDER = {"util", "crypto", "hw", "kernel", "kvm", "lab", "tools", "script"};

    @Test
    void lowerLayersNeverImportHigherOnes() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.memcrypt");
        var arch = layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(true);
        for (String l : ORDER) arch = arch.layer(l).definedBy("dev.memcrypt." + l + "..");
        for (int i = 0; i < ORDER.length; i++) {
            String[] above = java.util.Arrays.copyOfRange(ORDER, i + 1, ORDER.length);
            arch = above.length == 0
                    ? arch.whereLayer(ORDER[i]).mayNotBeAccessedByAnyLayer()
                    : arch.whereLayer(ORDER[i]).mayOnlyBeAccessedByLayers(above);
        }
        arch.check(classes);
    }
}
