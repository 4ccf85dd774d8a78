package dev.memcrypt;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Lower layers never import higher ones: util < crypto < hw < kernel < kvm < lab < script. */
@AnalyzeClasses(packages = "dev.memcrypt", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    @ArchTest
    static final ArchRule layers = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .withOptionalLayers(true)
            .layer("util").definedBy("dev.memcrypt.util..")
            .layer("crypto").definedBy("dev.memcrypt.crypto..")
            .layer("hw").definedBy("dev.memcrypt.hw..")
            .layer("kernel").definedBy("dev.memcrypt.kernel..")
            .layer("kvm").definedBy("dev.memcrypt.kvm..")
            .layer("lab").definedBy("dev.memcrypt.lab..")
            .layer("script").definedBy("dev.memcrypt.script..")
            .whereLayer("script").mayNotBeAccessedByAnyLayer()
            .whereLayer("lab").mayOnlyBeAccessedByLayers("script")
            .whereLayer("kvm").mayOnlyBeAccessedByLayers("lab", "script")
            .whereLayer("kernel").mayOnlyBeAccessedByLayers("kvm", "lab", "script")
            .whereLayer("hw").mayOnlyBeAccessedByLayers("kernel", "kvm", "lab", "script")
            .whereLayer("crypto").mayOnlyBeAccessedByLayers("hw", "kernel", "kvm", "lab", "script")
            .whereLayer("util").mayOnlyBeAccessedByLayers("crypto", "hw", "kernel", "kvm", "lab", "script");
}
