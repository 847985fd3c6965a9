// Command pulumi-language-yaml: the Pulumi YAML language host of pulumi-yaml v1.25.0, with its
// schemas loaded by the engine (the CLI's schema loader) rather than by a plugin host of its own.
//
// Why: v1.25.0 is the newest pulumi-yaml the Go module proxy serves with `packages:` support, and
// it is built on pulumi v3.206.0, whose own plugin host starts a Node plugin's language host with a
// -root flag that the v3.248 pulumi-language-nodejs we run no longer accepts. Loading schemas
// through the engine (pulumi-yaml's useRPCLoader mode, which its own releases turn off) lets the
// v3.248 CLI start redis-ha's plugin as it starts every other one. Everything else is pulumi-yaml's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pulumi/pulumi-yaml/pkg/server"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	// The flags the engine may pass a language host; -root and -compiler are accepted and unused.
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.String("root", "", "Root of the program execution (unused)")
	flag.String("compiler", "", "Obsolete (unused)")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-yaml", "pulumi-language-yaml", *tracing)

	engineAddress := flag.Arg(0)
	var stop chan bool
	if engineAddress != "" {
		// Stop serving when the engine goes away (or on SIGINT), so no host outlives its run.
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		stop = make(chan bool)
		go func() {
			<-ctx.Done()
			cancel()
			close(stop)
		}()
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the health check of the engine: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, server.NewLanguageHost(engineAddress, *tracing, true /* schemas through the engine */))
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host: %w", err))
	}
	// The engine reads the port from the first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host stopped serving: %w", err))
	}
}
