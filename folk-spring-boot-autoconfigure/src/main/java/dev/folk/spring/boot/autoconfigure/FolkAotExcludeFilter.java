package dev.folk.spring.boot.autoconfigure;

import org.springframework.beans.factory.aot.BeanRegistrationExcludeFilter;
import org.springframework.beans.factory.support.RegisteredBean;

/**
 * Leaves the pools' {@code folkPool.<name>} beans out of Spring AOT's generated code: each is made
 * by a supplier of the pool by name, which AOT cannot write as code ("instance supplier is not
 * supported" failed {@code process-aot} for every application with the starter). The registrar
 * that makes them is a bean itself and runs again at start-up, so the pools it registers are the
 * ones configured then, not at build time.
 */
final class FolkAotExcludeFilter implements BeanRegistrationExcludeFilter {

    @Override
    public boolean isExcludedFromAotProcessing(RegisteredBean registeredBean) {
        return Boolean.TRUE.equals(registeredBean.getMergedBeanDefinition()
                .getAttribute(FolkAutoConfiguration.FolkPoolBeanRegistrar.REGISTERED_HERE));
    }
}
