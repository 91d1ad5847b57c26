<?php

namespace App\Providers;

use Illuminate\Contracts\Support\DeferrableProvider;
use Illuminate\Support\ServiceProvider;

/**
 * A deferred provider, as packages ship them: registered the first time a request needs its
 * service, when it adds its configuration. A worker keeps both for its later requests.
 */
class ReportServiceProvider extends ServiceProvider implements DeferrableProvider
{
    public function register()
    {
        $this->app['config']->set('report.format', 'csv');
        $this->app->singleton('report.format', fn ($app) => $app['config']->get('report.format'));
    }

    public function provides()
    {
        return ['report.format'];
    }
}
